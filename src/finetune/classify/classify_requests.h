#pragma once
// Typed requests of a sequence classifier on raw text (what `bertforge serve`
// answers, text-embeddings-inference's /predict): texts or text pairs read as
// predict reads a row (the model's saved max_seq_length, the same
// encode_pair), every label with its score, best first.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "finetune/request_inputs.h"
#include "infer/job.h"
#include "infer/model.h"

namespace bf::ft::classify {

struct TextInput {
  std::string text;
  std::optional<std::string> text_pair;
};

struct ClassifyRequest {
  std::vector<TextInput> inputs;
  // The logits themselves instead of softmax (single-label) or sigmoid
  // (multi-label) probabilities; a regression's value is its logit either way.
  bool raw_scores = false;
  // false: an input longer than the model takes is a RequestError (TooLarge)
  // instead of being cut as predict cuts it.
  bool truncate = true;
};

struct LabelScore {
  std::string label;  // config.json's id2label name (LABEL_<id> without one)
  double score = 0;
};
using ClassifyAnswer = std::vector<LabelScore>;  // every label, best first (ties in label order)

// The pieces a request's input may have: the saved max_seq_length (predict's
// default 128), never more than the model's positions.
std::int64_t max_sequence_length(const infer::Model& model);

// Tokenizes on the caller's thread; throws RequestError ("inputs[i]") for an
// input over the length with truncate false.
infer::Job<std::vector<ClassifyAnswer>> classify_job(const infer::Model& model, const ClassifyRequest& request);

// {"inputs": "text" | ["t1", ...] | [["a", "b"], ...], "raw_scores": false,
// "truncate": true}; a pair may also be {"text", "text_pair"} (the HF
// pipeline's form). Answers: [{"label", "score"}, ...] for one input, a
// list of those for a list.
ClassifyRequest parse_classify_request(const nlohmann::json& body, const RequestLimits& limits);
// The task table's entry (finetune/tasks.h).
infer::Job<nlohmann::json> classify_request(infer::Model& model, const nlohmann::json& body,
                                            const RequestLimits& limits);

}  // namespace bf::ft::classify
