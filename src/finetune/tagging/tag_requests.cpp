#include "finetune/tagging/tag_requests.h"

#include <memory>

#include "finetune/labels.h"
#include "finetune/tagging/tagger.h"
#include "tokenizer/word_split.h"

namespace bf::ft::tagging {
namespace {

// One text made ready: its words and their windows.
struct PreparedText {
  std::string text;
  std::vector<tok::SplitWord> words;
  WindowedSentences windowed;
};

PreparedText prepare(const std::string& text, const tok::Tokenizer& tokenizer, const WindowOptions& options) {
  PreparedText p{text, tok::split_words(text, tok::word_split_options(tokenizer)), {}};
  // One sentence of the words, windowed as predict windows a CoNLL file.
  TaggedSentence sentence;
  for (const auto& w : p.words) sentence.tokens.emplace_back(w.text(text));
  p.windowed = window_sentences({sentence}, tokenizer, options, nullptr);
  return p;
}

std::vector<TaggedWord> tagged_words(const PreparedText& p, const std::vector<torch::Tensor>& logits,
                                     const std::vector<std::string>& labels) {
  std::vector<TaggedWord> out;
  const auto predicted = word_predictions(p.windowed.windows, logits, p.words.size());
  for (std::size_t i = 0; i < p.words.size(); ++i) {
    const auto& w = p.words[i];
    const auto label = predicted[i].label;
    const auto tag = label >= 0 && label < static_cast<std::int64_t>(labels.size()) ? labels[static_cast<std::size_t>(label)] : "O";
    out.push_back({std::string(w.text(p.text)), w.char_begin, w.char_end, w.begin, w.end, tag, predicted[i].probability});
  }
  return out;
}

// A label as a tag of `scheme`: a bare type reads as a continuation, as the
// HF pipeline reads it.
std::string scheme_tag(const std::string& label, TagScheme scheme) {
  if (label == "O" || split_tag(label, scheme)) return label;
  return (scheme == TagScheme::Bmes ? "M-" : "I-") + label;
}

nlohmann::json entities_json(const TagAnswer& answer) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : answer.entities)
    out.push_back({{"entity_group", e.entity_group}, {"score", e.score}, {"word", e.word}, {"start", e.start}, {"end", e.end}});
  return out;
}

nlohmann::json words_json(const TagAnswer& answer) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < answer.words.size(); ++i) {
    const auto& w = answer.words[i];
    if (w.tag == "O") continue;  // the pipeline's ignore_labels
    out.push_back({{"entity", w.tag}, {"score", w.score}, {"index", i}, {"word", w.word}, {"start", w.start}, {"end", w.end}});
  }
  return out;
}

}  // namespace

TagScheme label_scheme(const std::vector<std::string>& labels) {
  bool closing = false, middle = false;
  for (const auto& label : labels) {
    if (label.size() < 3 || label[1] != '-') continue;
    closing = closing || label[0] == 'E' || label[0] == 'S';
    middle = middle || label[0] == 'M';
  }
  if (middle) return TagScheme::Bmes;
  return closing ? TagScheme::Bioes : TagScheme::Iob2;
}

std::vector<TaggedEntity> group_entities(const std::string& text, const std::vector<TaggedWord>& words,
                                         TagScheme scheme) {
  std::vector<std::string> tags;
  for (const auto& w : words) tags.push_back(scheme_tag(w.tag, scheme));
  // IOB1 and IOB2 are read as they are (extract_entities takes both).
  if (scheme == TagScheme::Bioes || scheme == TagScheme::Bmes) tags = to_iob2(tags, scheme);
  std::vector<TaggedEntity> out;
  for (const auto& e : extract_entities(tags)) {
    const auto& first = words[static_cast<std::size_t>(e.start)];
    const auto& last = words[static_cast<std::size_t>(e.end - 1)];
    double total = 0;
    for (auto i = e.start; i < e.end; ++i) total += words[static_cast<std::size_t>(i)].score;
    out.push_back({e.type, total / static_cast<double>(e.end - e.start),
                   text.substr(first.byte_begin, last.byte_end - first.byte_begin), first.start, last.end});
  }
  return out;
}

infer::Job<std::vector<TagAnswer>> tag_job(const infer::Model& model, const TagRequest& request) {
  const auto settings = TaggingSettings::from_json(model.data_settings());
  auto prepared = std::make_shared<std::vector<PreparedText>>();
  infer::Job<std::vector<TagAnswer>> job;
  for (const auto& text : request.texts) {
    prepared->push_back(prepare(text, model.tokenizer(), settings.windows));
    for (const auto& w : prepared->back().windowed.windows) job.input_ids.push_back(w.input_ids);
  }
  const auto labels = LabelMap::of(model.config()).names();
  const auto scheme = label_scheme(labels);
  job.finish = [prepared, labels, scheme](std::vector<infer::SequenceOutputs>& outputs) {
    std::vector<TagAnswer> answers;
    std::size_t next = 0;  // the first output of the text
    for (const auto& p : *prepared) {
      std::vector<torch::Tensor> logits;
      for (std::size_t k = 0; k < p.windowed.windows.size(); ++k) logits.push_back(outputs.at(next++).logits);
      TagAnswer answer;
      answer.words = tagged_words(p, logits, labels);
      answer.entities = group_entities(p.text, answer.words, scheme);
      answers.push_back(std::move(answer));
    }
    return answers;
  };
  return job;
}

TagRequest parse_tag_request(const nlohmann::json& body, const RequestLimits& limits) {
  const auto inputs = request_inputs(body, limits);
  TagRequest request;
  for (std::size_t i = 0; i < inputs.items.size(); ++i) request.texts.push_back(text_field(*inputs.items[i], inputs.fields[i]));
  return request;
}

infer::Job<nlohmann::json> tag_request(infer::Model& model, const nlohmann::json& body, const RequestLimits& limits) {
  const auto request = parse_tag_request(body, limits);
  const bool single = !body.at("inputs").is_array();
  const bool grouped = string_option(body, "aggregation", "first", {"first", "simple", "none"}) != "none";
  return json_job(tag_job(model, request), [single, grouped](const std::vector<TagAnswer>& answers) {
    std::vector<nlohmann::json> out;
    for (const auto& answer : answers) out.push_back(grouped ? entities_json(answer) : words_json(answer));
    return answer_json(single, std::move(out));
  });
}

}  // namespace bf::ft::tagging
