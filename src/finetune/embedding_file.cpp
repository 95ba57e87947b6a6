#include "finetune/embedding_file.h"

#include "finetune/classify/classify_files.h"
#include "finetune/row_writer.h"
#include "infer/embed.h"
#include "io/safetensors.h"
#include "util/error.h"

namespace bf::ft {
namespace {

// A [H] or [K, H] or [S, K, H] tensor as nested JSON lists.
nlohmann::json nested(const torch::Tensor& x) {
  if (x.dim() == 1) {
    auto c = x.contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  }
  nlohmann::json a = nlohmann::json::array();
  for (std::int64_t k = 0; k < x.size(0); ++k) a.push_back(nested(x[k]));
  return a;
}

}  // namespace

EmbedSummary embed_file(const std::string& model_dir, const std::string& input, const std::string& output,
                        const InputSettings& settings, const EmbedOptions& options, torch::Device device) {
  infer::EmbedOptions how;
  how.pooling = infer::parse_pooling(options.pooling);
  how.layer = options.layer;
  how.all_layers = options.all_layers;
  how.normalize = options.normalize;
  how.batch_size = settings.batch_size;
  auto model = infer::Model::open_encoder(model_dir, device);
  model.set_precision(settings.precision);
  const auto layer_index = infer::embed_layer(model, how);

  auto read = classify::read_options_for(model, settings, input);
  read.columns.label.clear();
  read.columns.label_required = false;
  classify::BadRowPolicy policy(settings.skip_bad_rows);
  const auto rows = classify::read_rows(input, read, policy);
  const auto data = classify::make_dataset(input, rows, read, model.tokenizer(), LabelMap(), policy, false);
  std::vector<infer::Sequence> sequences;
  for (const auto& e : data.examples) sequences.push_back({&e.input_ids, &e.token_type_ids});
  const auto per_row = infer::embed(model, sequences, how);
  const auto n = data.size();
  const bool tokens = how.pooling == infer::Pooling::None;

  auto format = options.output_format;
  if (format == "auto") {
    const bool st = output.size() > 12 && output.compare(output.size() - 12, 12, ".safetensors") == 0;
    format = st ? "safetensors" : "jsonl";
  }
  EmbedSummary summary;
  summary.rows = n;
  if (format == "safetensors") {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    if (tokens) {
      std::vector<std::int64_t> offsets{0};
      std::vector<std::int64_t> ids;
      for (const auto& e : data.examples) {
        offsets.push_back(offsets.back() + static_cast<std::int64_t>(e.input_ids.size()));
        ids.insert(ids.end(), e.input_ids.begin(), e.input_ids.end());
      }
      auto states = torch::cat(per_row, 0);
      summary.shape = states.sizes().vec();
      tensors = {{"states", states}, {"offsets", torch::tensor(offsets, torch::kLong)}, {"input_ids", torch::tensor(ids, torch::kLong)}};
    } else {
      auto embeddings = torch::stack(per_row, 0);
      summary.shape = embeddings.sizes().vec();
      tensors = {{"embeddings", embeddings}};
    }
    io::save_safetensors(output, tensors,
                         {{"pooling", options.pooling},
                          {"layer", options.all_layers ? "all" : std::to_string(layer_index)},
                          {"model", model_dir}});
    return summary;
  }
  if (format != "jsonl") bf::fail("embed output format must be safetensors or jsonl");
  OutputFile out(output);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& row = rows[static_cast<std::size_t>(i)];
    nlohmann::json j = {{"line", row.line}, {"text", row.text}};
    if (row.text_pair) j["text_pair"] = *row.text_pair;
    const auto values = per_row[static_cast<std::size_t>(i)].to(torch::kFloat64);
    if (tokens) {
      std::vector<std::string> pieces;
      for (auto id : data.examples[static_cast<std::size_t>(i)].input_ids) pieces.push_back(model.tokenizer().id_to_token(id));
      j["tokens"] = pieces;
      j["states"] = nested(values);
    } else {
      j[options.all_layers ? "layers" : "embedding"] = nested(values);
    }
    out.write(j.dump() + "\n");
  }
  return summary;
}

}  // namespace bf::ft
