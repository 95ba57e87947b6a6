#include "finetune/probe/probe_model.h"

#include <spdlog/spdlog.h>

#include "finetune/finetune_config.h"
#include "io/hf_model.h"
#include "model/init_weights.h"
#include "model/precision.h"
#include "util/error.h"

namespace bf::ft {
namespace {

// Any BERT model's encoder under its HF name `bert.`: the heads of the file
// (MLM, NSP, classifier, qa_outputs) are reported as unexpected and ignored.
struct EncoderOnlyImpl : torch::nn::Module {
  explicit EncoderOnlyImpl(const model::BertConfig& config) { bert = register_module("bert", model::BertModel(config)); }
  model::BertModel bert{nullptr};
};
TORCH_MODULE(EncoderOnly);

EncoderOnly load_encoder(const std::string& dir, const model::BertConfig& config) {
  EncoderOnly encoder(config);
  model::init_bert_weights(*encoder, config);
  const auto report = io::load_weights(*encoder, io::find_weights_file(dir));
  for (const auto& name : report.missing) {
    // A token-classification or QA model has no pooler; the probe does not use it.
    if (name.rfind("bert.pooler.", 0) != 0) bf::fail(dir + ": not a BERT encoder: the weights lack " + name);
  }
  return encoder;
}

}  // namespace

nlohmann::json ProbeReport::to_json() const {
  nlohmann::json j = model.to_json();
  if (random_init) j["random_init"] = random_init->to_json();
  return j;
}

ProbeReport probe_model_dir(const ProbeRequest& request) {
  if (!request.section.enabled()) bf::fail("probe: --train and --dev are required");
  const auto dir = resolve_model_dir(request.model_dir);
  const auto config = io::load_model_config(dir);
  const auto tokenizer = io::load_model_tokenizer(dir, config);
  const auto device = model::resolve_device(request.device);
  if (request.section.max_seq_length > config.max_position_embeddings)
    bf::fail("probe: max_seq_length " + std::to_string(request.section.max_seq_length) + " exceeds the model's " +
             "max_position_embeddings " + std::to_string(config.max_position_embeddings));
  const auto data = load_probe_data(request.section, *tokenizer);
  spdlog::info("probe: {} training examples ({} classes), {} dev examples", data.train.size(),
               data.label_names.size(), data.dev.size());

  ProbeReport report;
  auto encoder = load_encoder(dir, config);
  encoder->to(device);
  report.model = run_probe(encoder->bert, data, request.section, device);
  if (request.with_random_init) {
    torch::manual_seed(static_cast<std::uint64_t>(request.section.seed));
    EncoderOnly fresh(config);
    model::init_bert_weights(*fresh, config);
    fresh->to(device);
    report.random_init = run_probe(fresh->bert, data, request.section, device);
  }
  return report;
}

}  // namespace bf::ft
