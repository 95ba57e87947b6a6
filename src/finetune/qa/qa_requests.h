#pragma once
// Typed requests of an extractive-QA model (the HF pipeline's
// question-answering): {question, context} pairs windowed with the model's
// saved QaSettings and decoded by the decoder predict uses, so the answer is
// the text predict writes, with where it sits in the context (code points,
// as Python str indices: context[start:end] == answer).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "finetune/request_inputs.h"
#include "infer/job.h"
#include "infer/model.h"

namespace bf::ft::qa {

struct QaInput {
  std::string question, context;
};

struct QaRequest {
  std::vector<QaInput> inputs;
  // Answers per question, best first. Up to the saved n_best_size the
  // decoding is predict's; beyond it the n-best list grows to top_k, which
  // changes its probabilities.
  int top_k = 1;
};

struct SpanAnswer {
  std::string answer;               // "" when there is none (SQuAD v2.0's no-answer, or no legal span)
  double score = 0;                 // the answer's probability in the n-best list
  std::int64_t start = 0, end = 0;  // code points of the context (0, 0 for "")
};
// The decoder's choice first, then the rest of the n-best list, top_k at most.
using SpanAnswers = std::vector<SpanAnswer>;

// Windows on the caller's thread.
infer::Job<std::vector<SpanAnswers>> qa_job(const infer::Model& model, const QaRequest& request);

// {"inputs": {"question", "context"} | [{...}, ...], "top_k": 1}. Answers:
// {answer, score, start, end} per question (a list of top_k of them when
// top_k > 1); a list of those for a list.
QaRequest parse_qa_request(const nlohmann::json& body, const RequestLimits& limits);
// The task table's entry (finetune/tasks.h).
infer::Job<nlohmann::json> qa_request(infer::Model& model, const nlohmann::json& body, const RequestLimits& limits);

}  // namespace bf::ft::qa
