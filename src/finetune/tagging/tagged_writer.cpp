#include "finetune/tagging/tagged_writer.h"

#include <cstdint>

#include "finetune/tagging/tag_scheme.h"
#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bf::ft::tagging {
namespace {

void check_length(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags) {
  if (predicted_tags.size() != sentence.tokens.size())
    bf::fail("line " + std::to_string(sentence.line) + ": " + std::to_string(sentence.tokens.size()) +
             " tokens but " + std::to_string(predicted_tags.size()) + " predicted tags");
}

// The byte offset of every code point of `text`, plus its end.
std::vector<std::size_t> code_point_offsets(const std::string& text) {
  std::vector<std::size_t> out;
  const char* begin = text.data();
  const char* end = begin + text.size();
  for (const char* p = begin; p < end;) {
    out.push_back(static_cast<std::size_t>(p - begin));
    char32_t cp = 0;
    const int n = tok::unicode::decode_utf8(p, end, &cp);
    p += n > 0 ? n : 1;
  }
  out.push_back(text.size());
  return out;
}

struct Mention {
  std::string type, text;
  std::int64_t start = 0, end = 0;
};

std::vector<Mention> mentions(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags) {
  check_length(sentence, predicted_tags);
  std::vector<Mention> out;
  const bool cluener = sentence.is_cluener();
  const auto offsets = cluener ? code_point_offsets(sentence.text) : std::vector<std::size_t>();
  for (const auto& e : extract_entities(predicted_tags)) {
    Mention m{e.type, "", e.start, e.end};
    if (cluener) {
      m.start = sentence.char_spans[static_cast<std::size_t>(e.start)].first;
      m.end = sentence.char_spans[static_cast<std::size_t>(e.end - 1)].second;
      const auto from = offsets[static_cast<std::size_t>(m.start)], to = offsets[static_cast<std::size_t>(m.end)];
      m.text = sentence.text.substr(from, to - from);
    } else {
      for (auto t = e.start; t < e.end; ++t)
        m.text += (t == e.start ? "" : " ") + sentence.tokens[static_cast<std::size_t>(t)];
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

nlohmann::json predicted_entities(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : mentions(sentence, predicted_tags))
    out.push_back({{"type", m.type}, {"start", m.start}, {"end", m.end}, {"text", m.text}});
  return out;
}

std::string conll_prediction(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags) {
  check_length(sentence, predicted_tags);
  std::string out;
  for (const auto& line : sentence.preceding_lines) out += line + "\n";
  for (std::size_t i = 0; i < sentence.lines.size(); ++i) out += sentence.lines[i] + "\t" + predicted_tags[i] + "\n";
  return out;
}

nlohmann::json json_prediction(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags) {
  nlohmann::json out = sentence.object.is_null() ? nlohmann::json::object() : sentence.object;
  out["predicted_tags"] = predicted_tags;
  const auto found = mentions(sentence, predicted_tags);
  nlohmann::json entities = nlohmann::json::array();
  nlohmann::json label = nlohmann::json::object();
  for (const auto& m : found) {
    entities.push_back({{"type", m.type}, {"start", m.start}, {"end", m.end}, {"text", m.text}});
    label[m.type][m.text].push_back(nlohmann::json::array({m.start, m.end - 1}));
  }
  out["entities"] = std::move(entities);
  if (sentence.is_cluener()) out["predicted_label"] = std::move(label);
  return out;
}

void write_predictions(std::ostream& out, const TaggedData& data,
                       const std::vector<std::vector<std::string>>& predicted_tags) {
  if (predicted_tags.size() != data.sentences.size())
    bf::fail(data.path + ": " + std::to_string(data.sentences.size()) + " sentences but predictions for " +
             std::to_string(predicted_tags.size()));
  for (std::size_t i = 0; i < data.sentences.size(); ++i) {
    if (data.format == TaggedFormat::Jsonl)
      out << json_prediction(data.sentences[i], predicted_tags[i]).dump() << "\n";
    else
      out << conll_prediction(data.sentences[i], predicted_tags[i]);
  }
  for (const auto& line : data.trailing_lines) out << line << "\n";
  if (!out) bf::fail(data.path + ": writing the predictions failed");
}

}  // namespace bf::ft::tagging
