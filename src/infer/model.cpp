#include "infer/model.h"

#include <spdlog/spdlog.h>

#include "io/hf_model.h"
#include "model/bert_model.h"
#include "model/frozen_linear.h"
#include "model/precision.h"
#include "model/quantized_linear.h"
#include "util/error.h"

namespace bf::infer {

Head encoder_head() {
  Head head;
  head.architecture = model::Architecture::Encoder;
  head.make = [](const model::BertConfig& config) -> std::shared_ptr<torch::nn::Module> {
    return model::BertModel(config, /*add_pooling_layer=*/true).ptr();
  };
  head.forward = [](torch::nn::Module& net, const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                    const torch::Tensor& attention_mask) {
    Outputs out;
    out.hidden_states = dynamic_cast<model::BertModelImpl&>(net)
                            .forward(input_ids, token_type_ids, attention_mask, /*output_hidden_states=*/true)
                            .hidden_states;
    return out;
  };
  head.every_weight = false;
  head.encoder = [](torch::nn::Module& net) {
    return model::BertModel(std::dynamic_pointer_cast<model::BertModelImpl>(net.shared_from_this()));
  };
  return head;
}

nlohmann::json data_settings_of(const model::BertConfig& config) {
  if (config.extra.is_object() && config.extra.contains("bertforge_data")) return config.extra["bertforge_data"];
  return nlohmann::json::object();
}

void store_data_settings(model::BertConfig& config, nlohmann::json settings) {
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  config.extra["bertforge_data"] = std::move(settings);
}

Model Model::open(const std::string& dir, const HeadOf& head_of, torch::Device device) {
  auto config = io::load_model_config(dir);
  auto head = head_of(model::architecture_of(config), dir);
  return open_as(dir, std::move(config), std::move(head), device);
}

Model Model::open_encoder(const std::string& dir, torch::Device device) {
  return open_as(dir, io::load_model_config(dir), encoder_head(), device);
}

Model Model::open_as(const std::string& dir, model::BertConfig config, Head head, torch::Device device) {
  std::shared_ptr<const tok::Tokenizer> tokenizer = io::load_model_tokenizer(dir, config);
  auto net = head.make(config);
  Model m(std::move(config), std::move(tokenizer), std::move(head), std::move(net), device);
  m.dir_ = dir;
  const auto report = io::load_weights(m.module(), io::find_weights_file(dir));
  m.missing_ = report.missing;
  if (m.head_.every_weight && !report.missing.empty())
    bf::fail(dir + ": weights do not match the model: " + report.summary());
  for (const auto& name : report.missing)
    if (name.rfind("pooler.", 0) != 0) bf::fail(dir + ": the encoder weights are incomplete (missing " + name + ")");
  m.module().to(device);
  m.module().eval();
  return m;
}

Model::Model(model::BertConfig config, std::shared_ptr<const tok::Tokenizer> tokenizer, Head head,
             std::shared_ptr<torch::nn::Module> net, torch::Device device)
    : config_(std::move(config)),
      tokenizer_(std::move(tokenizer)),
      head_(std::move(head)),
      net_(std::move(net)),
      device_(device),
      data_settings_(data_settings_of(config_)) {
  pad_id_ = tokenizer_ ? tokenizer_->special_ids().pad : static_cast<std::int32_t>(config_.pad_token_id);
}

const tok::Tokenizer& Model::tokenizer() const {
  if (!tokenizer_) bf::fail("this model was given no tokenizer");
  return *tokenizer_;
}

void Model::wrong_head() const {
  bf::fail((dir_.empty() ? std::string("the model") : dir_) + " is a " + model::architecture_name(head_.architecture) +
           ", not the network this request needs");
}

Precision parse_precision(const std::string& name, const std::string& key) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  if (name == "int8") return Precision::Int8;
  bf::fail(key + " must be fp32, bf16 or int8 (got \"" + name + "\")");
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::Fp32: return "fp32";
    case Precision::Bf16: return "bf16";
    case Precision::Int8: return "int8";
  }
  return "fp32";
}

model::BertModel Model::encoder() { return head_.encoder(*net_); }

void Model::set_precision(Precision precision) {
  if (precision == precision_) return;
  // The layers' linears are frozen once from the fp32 weights; going back
  // would need a second copy of every forward path's choice, for no user.
  if (precision_ != Precision::Fp32)
    bf::fail("the model runs in " + precision_name(precision_) + " already; open it again for " +
             precision_name(precision));
  if (precision == Precision::Int8) {
    if (const auto why = model::int8_unavailable_reason(device_); !why.empty()) bf::fail("--precision int8: " + why);
    model::freeze_linears(*encoder(), model::FrozenPrecision::Int8);
  }
  if (precision == Precision::Bf16) {
    if (device_.is_cpu() && !model::cpu_has_fast_bf16())
      spdlog::warn("bf16 on a CPU without AVX512_BF16/AMX runs in generic code, far slower than fp32");
    // Autocast would cast every fp32 weight to bf16 again on each forward.
    model::freeze_linears(*encoder(), model::FrozenPrecision::Bf16);
  }
  precision_ = precision;
}

Outputs Model::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                       const torch::Tensor& attention_mask, Pass pass) {
  model::AutocastGuard autocast(precision_ == Precision::Bf16 ? "bf16" : "fp32", device_);
  if (pass == Pass::Head) return head_.forward(*net_, input_ids, token_type_ids, attention_mask);
  const auto result = encoder()->forward(input_ids, token_type_ids, attention_mask, /*output_hidden_states=*/true);
  Outputs out;
  out.hidden_states = result.hidden_states;
  out.pooler_output = result.pooler_output;
  return out;
}

}  // namespace bf::infer
