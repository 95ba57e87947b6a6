#include "finetune/qa/qa_requests.h"

#include <algorithm>
#include <memory>

#include "finetune/qa/qa_reader.h"
#include "infer/request_error.h"

namespace bf::ft::qa {
namespace {

using infer::RequestError;

// What decoding needs once the logits are back.
struct PreparedQuestions {
  std::vector<QaExample> examples;
  std::vector<QaFeature> features;
  QaDecodeOptions decode;
};

SpanAnswer span_answer(const QaExample& example, const QaCandidate& c) {
  return {c.text, c.probability, code_point_index(example.context, c.begin), code_point_index(example.context, c.end)};
}

// The decoder's choice, scored by its n-best probability, then the others.
SpanAnswers answers_of(const QaExample& example, const QaPrediction& prediction, int top_k) {
  SpanAnswers out;
  const auto chosen = std::find_if(prediction.nbest.begin(), prediction.nbest.end(),
                                   [&](const QaCandidate& c) { return c.text == prediction.text; });
  if (chosen != prediction.nbest.end()) {
    out.push_back(span_answer(example, *chosen));
  } else {
    out.push_back(SpanAnswer{});  // no legal span and no null candidate
  }
  for (auto c = prediction.nbest.begin(); c != prediction.nbest.end() && static_cast<int>(out.size()) < top_k; ++c)
    if (c != chosen) out.push_back(span_answer(example, *c));
  return out;
}

QaInput parse_input(const nlohmann::json& item, const std::string& field) {
  if (!item.is_object())
    throw RequestError(RequestError::Kind::Invalid, field,
                       "expected {\"question\", \"context\"}, got " + std::string(item.type_name()));
  QaInput input;
  for (auto [key, out] : {std::pair{"question", &input.question}, std::pair{"context", &input.context}}) {
    const auto it = item.find(key);
    if (it == item.end()) throw RequestError(RequestError::Kind::Invalid, field + "." + key, "missing");
    *out = text_field(*it, field + "." + key);
  }
  return input;
}

nlohmann::json answer_object(const SpanAnswer& a) {
  return {{"answer", a.answer}, {"score", a.score}, {"start", a.start}, {"end", a.end}};
}

}  // namespace

infer::Job<std::vector<SpanAnswers>> qa_job(const infer::Model& model, const QaRequest& request) {
  const auto settings = QaSettings::from_json(model.data_settings());
  auto prepared = std::make_shared<PreparedQuestions>();
  for (std::size_t i = 0; i < request.inputs.size(); ++i) {
    QaExample example;
    example.id = std::to_string(i);
    example.question = request.inputs[i].question;
    example.context = request.inputs[i].context;
    prepared->examples.push_back(std::move(example));
  }
  prepared->features = build_features(prepared->examples, model.tokenizer(), settings.features, false).features;
  prepared->decode = settings.decode;
  prepared->decode.n_best_size = std::max(prepared->decode.n_best_size, request.top_k);
  infer::Job<std::vector<SpanAnswers>> job;
  for (const auto& f : prepared->features) {
    job.input_ids.push_back(f.input_ids);
    job.token_type_ids.push_back(f.token_type_ids);
  }
  job.finish = [prepared, top_k = request.top_k](std::vector<infer::SequenceOutputs>& outputs) {
    std::vector<std::vector<float>> starts, ends;
    for (const auto& out : outputs) {
      const auto s = out.start_logits.contiguous(), e = out.end_logits.contiguous();
      starts.emplace_back(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
      ends.emplace_back(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
    }
    const auto& p = *prepared;
    const auto predictions = decode_predictions(p.examples, p.features, starts, ends, p.decode);
    std::vector<SpanAnswers> answers;
    for (std::size_t i = 0; i < predictions.size(); ++i) answers.push_back(answers_of(p.examples[i], predictions[i], top_k));
    return answers;
  };
  return job;
}

QaRequest parse_qa_request(const nlohmann::json& body, const RequestLimits& limits) {
  const auto inputs = request_inputs(body, limits);
  QaRequest request;
  for (std::size_t i = 0; i < inputs.items.size(); ++i) request.inputs.push_back(parse_input(*inputs.items[i], inputs.fields[i]));
  request.top_k = static_cast<int>(int_option(body, "top_k", 1, 1, 100));
  return request;
}

infer::Job<nlohmann::json> qa_request(infer::Model& model, const nlohmann::json& body, const RequestLimits& limits) {
  const auto request = parse_qa_request(body, limits);
  const bool single = !body.at("inputs").is_array();
  return json_job(qa_job(model, request), [single, top_k = request.top_k](const std::vector<SpanAnswers>& answers) {
    std::vector<nlohmann::json> out;
    for (const auto& list : answers) {
      nlohmann::json each = nlohmann::json::array();
      for (const auto& a : list) each.push_back(answer_object(a));
      out.push_back(top_k == 1 ? each.at(0) : each);
    }
    return answer_json(single, std::move(out));
  });
}

}  // namespace bf::ft::qa
