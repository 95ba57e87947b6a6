#include "finetune/classify/classify_requests.h"

#include <algorithm>
#include <climits>

#include "finetune/classify/classifier.h"
#include "infer/request_error.h"

namespace bf::ft::classify {
namespace {

using infer::RequestError;

// Every label's score, best first; ties keep label order.
ClassifyAnswer scores_of(TaskType task, const std::vector<std::string>& names, const torch::Tensor& logits,
                         bool raw_scores) {
  const auto d = decide(task, logits);
  ClassifyAnswer answer;
  if (task == TaskType::Regression) return {{names.at(0), d.value}};
  const auto raw = logits.to(torch::kFloat64).contiguous();
  for (std::size_t k = 0; k < names.size(); ++k)
    answer.push_back({names[k], raw_scores ? raw.data_ptr<double>()[k] : d.probabilities.at(k)});
  std::stable_sort(answer.begin(), answer.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  return answer;
}

TextInput parse_input(const nlohmann::json& item, const std::string& field) {
  if (item.is_string()) return {text_field(item, field), std::nullopt};
  if (item.is_array()) {
    if (item.size() != 2) throw RequestError(RequestError::Kind::Invalid, field,
                                             "a pair is [text, text_pair]; got " + std::to_string(item.size()) + " items");
    return {text_field(item[0], field + "[0]"), text_field(item[1], field + "[1]")};
  }
  if (item.is_object()) {
    const auto text = item.find("text"), pair = item.find("text_pair");
    if (text == item.end()) throw RequestError(RequestError::Kind::Invalid, field + ".text", "missing");
    TextInput input{text_field(*text, field + ".text"), std::nullopt};
    if (pair != item.end() && !pair->is_null()) input.text_pair = text_field(*pair, field + ".text_pair");
    return input;
  }
  throw RequestError(RequestError::Kind::Invalid, field,
                     "expected a text, a [text, text_pair] pair or {text, text_pair}, got " +
                         std::string(item.type_name()));
}

}  // namespace

std::int64_t max_sequence_length(const infer::Model& model) {
  // As read_options_for (classify_files.cpp) reads a file without flags.
  const auto saved = model.data_settings().value("max_seq_length", std::int64_t{128});
  return std::min(saved, model.config().max_position_embeddings);
}

infer::Job<std::vector<ClassifyAnswer>> classify_job(const infer::Model& model, const ClassifyRequest& request) {
  const auto max_len = static_cast<int>(max_sequence_length(model));
  infer::Job<std::vector<ClassifyAnswer>> job;
  for (std::size_t i = 0; i < request.inputs.size(); ++i) {
    const auto& in = request.inputs[i];
    std::optional<std::string_view> pair;
    if (in.text_pair) pair = *in.text_pair;
    // Untruncated, it is what predict would give whenever it fits.
    auto enc = model.tokenizer().encode_pair(in.text, pair, request.truncate ? max_len : INT_MAX);
    if (static_cast<std::int64_t>(enc.input_ids.size()) > max_len)
      throw RequestError(RequestError::Kind::TooLarge, "inputs[" + std::to_string(i) + "]",
                         std::to_string(enc.input_ids.size()) + " tokens; the model takes at most " +
                             std::to_string(max_len) + " (send truncate: true to cut it)");
    job.input_ids.push_back(std::move(enc.input_ids));
    job.token_type_ids.push_back(std::move(enc.token_type_ids));
  }
  const auto task = task_of(model.config());
  const auto names = LabelMap::of(model.config()).names();
  job.finish = [task, names, raw = request.raw_scores](std::vector<infer::SequenceOutputs>& outputs) {
    std::vector<ClassifyAnswer> answers;
    for (const auto& out : outputs) answers.push_back(scores_of(task, names, out.logits, raw));
    return answers;
  };
  return job;
}

ClassifyRequest parse_classify_request(const nlohmann::json& body, const RequestLimits& limits) {
  const auto inputs = request_inputs(body, limits);
  ClassifyRequest request;
  for (std::size_t i = 0; i < inputs.items.size(); ++i)
    request.inputs.push_back(parse_input(*inputs.items[i], inputs.fields[i]));
  request.raw_scores = bool_option(body, "raw_scores", false);
  request.truncate = bool_option(body, "truncate", true);
  return request;
}

infer::Job<nlohmann::json> classify_request(infer::Model& model, const nlohmann::json& body,
                                            const RequestLimits& limits) {
  const auto request = parse_classify_request(body, limits);
  const bool single = !body.at("inputs").is_array();
  return json_job(classify_job(model, request), [single](const std::vector<ClassifyAnswer>& answers) {
    std::vector<nlohmann::json> out;
    for (const auto& answer : answers) {
      nlohmann::json scores = nlohmann::json::array();
      for (const auto& s : answer) scores.push_back({{"label", s.label}, {"score", s.score}});
      out.push_back(std::move(scores));
    }
    return answer_json(single, std::move(out));
  });
}

}  // namespace bf::ft::classify
