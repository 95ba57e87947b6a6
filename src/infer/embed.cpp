#include "infer/embed.h"

#include "model/bert_model.h"
#include "model/classifier_heads.h"
#include "infer/request_error.h"
#include "util/error.h"

namespace bf::infer {
namespace {

// [B, S, H] states of one hidden layer -> [B, H] by the pooling rule.
torch::Tensor pool_states(Pooling pooling, const torch::Tensor& states, const torch::Tensor& mask,
                          model::BertModel& bert) {
  if (pooling == Pooling::Cls) return states.select(1, 0);
  if (pooling == Pooling::Mean) return model::masked_mean(states, mask);
  return bert->pooler->forward(states);
}

void check_pooler(const Model& model, const EmbedOptions& options) {
  if (options.pooling != Pooling::Pooler) return;
  for (const auto& name : model.missing_weights())
    if (name.rfind("pooler.", 0) == 0)
      bf::fail(model.dir() + ": the encoder weights are incomplete (missing " + name +
               "); this model has no trained pooler: use --pooling cls or mean");
}

// [CLS] pieces [SEP], cut to max_length when truncating; a RequestError
// naming `field` when the text is empty or too long.
std::vector<std::int32_t> request_ids(const Model& model, const std::string& text, std::int64_t max_length,
                                      bool truncate, const std::string& field) {
  if (text.empty()) throw RequestError(RequestError::Kind::Invalid, field, "must not be empty");
  auto pieces = model.tokenizer().encode(text).ids;
  const auto room = static_cast<std::size_t>(max_length - 2);
  if (pieces.size() > room) {
    if (!truncate)
      throw RequestError(RequestError::Kind::TooLarge, field,
                         std::to_string(pieces.size() + 2) + " tokens, over the model's maximum of " +
                             std::to_string(max_length) + " (send truncate: true to cut it)");
    pieces.resize(room);
  }
  const auto special = model.tokenizer().special_ids();
  std::vector<std::int32_t> ids{special.cls};
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  ids.push_back(special.sep);
  return ids;
}

// A sequence's vector from its last layer's states [S, H] (and pooler output).
torch::Tensor pool_sequence(Pooling pooling, const SequenceOutputs& out) {
  const auto& states = out.hidden_states.back();
  if (pooling == Pooling::Cls) return states[0];
  if (pooling == Pooling::Mean) return states.mean(0);
  return out.pooler_output;
}

}  // namespace

Job<std::vector<std::vector<float>>> embed_job(const Model& model, const EmbedRequest& request) {
  if (request.pooling == Pooling::None)
    throw RequestError(RequestError::Kind::Invalid, "pooling", "must be cls, mean or pooler");
  try {
    check_pooler(model, {request.pooling});
  } catch (const bf::Error& e) {
    throw RequestError(RequestError::Kind::Invalid, "pooling", e.what());
  }
  const auto max_length = request.max_length > 0 ? request.max_length : model.config().max_position_embeddings;
  Job<std::vector<std::vector<float>>> job;
  job.pass = Pass::Encoder;
  for (std::size_t i = 0; i < request.texts.size(); ++i)
    job.input_ids.push_back(
        request_ids(model, request.texts[i], max_length, request.truncate, "inputs[" + std::to_string(i) + "]"));
  job.finish = [pooling = request.pooling, normalize = request.normalize](std::vector<SequenceOutputs>& outputs) {
    std::vector<std::vector<float>> vectors;
    for (const auto& out : outputs) {
      auto v = pool_sequence(pooling, out).to(torch::kFloat32).contiguous();
      if (normalize) v = v / v.norm().clamp_min(1e-12);
      vectors.emplace_back(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    }
    return vectors;
  };
  return job;
}

Pooling parse_pooling(const std::string& name) {
  if (name == "cls") return Pooling::Cls;
  if (name == "mean") return Pooling::Mean;
  if (name == "pooler") return Pooling::Pooler;
  if (name == "none") return Pooling::None;
  bf::fail("--pooling must be cls, mean, pooler or none");
}

std::int64_t embed_layer(const Model& model, const EmbedOptions& options) {
  check_pooler(model, options);
  const auto states = model.config().num_hidden_layers + 1;
  const auto layer = options.layer < 0 ? states + options.layer : options.layer;
  if (layer < 0 || layer >= states)
    bf::fail("--layer " + std::to_string(options.layer) + " is out of range (0.." + std::to_string(states - 1) + ")");
  if (options.pooling == Pooling::Pooler && (options.all_layers || layer != states - 1))
    bf::fail("--pooling pooler works on the last layer only (the pooler was trained on it)");
  return layer;
}

std::vector<torch::Tensor> embed(Model& model, const std::vector<Sequence>& sequences, const EmbedOptions& options) {
  const auto layer = static_cast<std::size_t>(embed_layer(model, options));
  auto bert = model.encoder();
  const bool tokens = options.pooling == Pooling::None;
  std::vector<torch::Tensor> per_sequence(sequences.size());
  run(model, sequences, {options.batch_size, 0, Pass::Encoder}, [&](const PaddedBatch& batch, const Outputs& out) {
    const auto mask = batch.attention_mask.to(model.device());
    const auto chosen = options.all_layers ? out.hidden_states : std::vector<torch::Tensor>{out.hidden_states.at(layer)};
    torch::Tensor result;  // [B, S, K, H] tokens or [B, K, H] pooled
    if (tokens) {
      result = torch::stack(chosen, 2);
    } else {
      std::vector<torch::Tensor> pooled;
      for (const auto& states : chosen) pooled.push_back(pool_states(options.pooling, states, mask, bert));
      result = torch::stack(pooled, 1);
    }
    result = result.to(torch::kCPU, torch::kFloat32);
    if (options.normalize) result = result / result.norm(2, -1, /*keepdim=*/true).clamp_min(1e-12);
    for (std::size_t b = 0; b < batch.index.size(); ++b) {
      const auto i = static_cast<std::size_t>(batch.index[b]);
      auto r = result[static_cast<std::int64_t>(b)];
      if (tokens) r = r.narrow(0, 0, sequences[i].size());
      if (!options.all_layers) r = r.select(tokens ? 1 : 0, 0);
      per_sequence[i] = r.contiguous();
    }
  });
  return per_sequence;
}

}  // namespace bf::infer
