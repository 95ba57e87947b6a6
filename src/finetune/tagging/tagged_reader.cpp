#include "finetune/tagging/tagged_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <utility>

#include "finetune/row_reader.h"
#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bf::ft::tagging {
namespace {

constexpr std::size_t kKeptExamples = 5;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_blank(const std::string& line) { return line.find_first_not_of(" \t") == std::string::npos; }

std::string shown(const std::string& s) { return nlohmann::json(s).dump(); }

class LineSource {
 public:
  explicit LineSource(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) bf::fail(path + ": cannot open: " + std::strerror(errno));
  }
  bool next(std::string& out) {
    if (!std::getline(in_, out)) return false;
    ++line_;
    if (!out.empty() && out.back() == '\r') out.pop_back();
    if (line_ == 1 && out.rfind("\xEF\xBB\xBF", 0) == 0) out.erase(0, 3);  // a byte-order mark is no token
    return true;
  }
  std::int64_t line() const { return line_; }

 private:
  std::ifstream in_;
  std::int64_t line_ = 0;
};

// Skips (counting) or rethrows a bad sentence, as the caller asked.
class BadSentences {
 public:
  BadSentences(bool skip, TaggedData& data) : skip_(skip), data_(data) {}
  void handle(const BadRow& problem) {
    if (!skip_) throw problem;
    ++data_.skipped;
    if (data_.skipped_examples.size() < kKeptExamples) data_.skipped_examples.emplace_back(problem.what());
  }

 private:
  bool skip_;
  TaggedData& data_;
};

// Checks the tags as read and stores them as IOB2. `line_of` maps a token
// index to the line to blame.
template <typename LineOf>
void set_tags(TaggedSentence& sentence, const std::vector<std::string>& raw, const TaggedReadOptions& options,
              const std::string& path, LineOf line_of) {
  auto problem = options.strict ? strict_violation(raw, options.scheme) : check_tag_forms(raw, options.scheme);
  if (problem)
    throw BadRow(path, line_of(problem->index), "token " + std::to_string(problem->index) + ": " + problem->message);
  sentence.tags = to_iob2(raw, options.scheme);
}

// ---- CoNLL ---------------------------------------------------------------

struct RawLine {
  std::int64_t line;
  std::string text;
};

TaggedSentence conll_sentence(const std::vector<RawLine>& raw, const TaggedReadOptions& options,
                              const std::string& path) {
  TaggedSentence s;
  s.line = raw.front().line;
  std::vector<std::string> tags;
  bool all_tagged = true;
  for (const auto& r : raw) {
    if (!is_valid_utf8(r.text)) throw BadRow(path, r.line, "not valid UTF-8");
    auto columns = split_columns(r.text);
    if (columns.size() < 2) {
      if (options.labels_required)
        throw BadRow(path, r.line, "one column (token " + shown(columns.front()) +
                                       ") but a tag is needed: TOKEN [...] TAG, split on a tab or spaces");
      all_tagged = false;
    } else {
      tags.push_back(columns.back());
    }
    s.tokens.push_back(std::move(columns.front()));
    s.lines.push_back(r.text);
  }
  // Predict input may mix tagged and untagged lines: then the sentence simply has no tags.
  if (all_tagged) set_tags(s, tags, options, path, [&](std::size_t i) { return raw[i].line; });
  return s;
}

void read_conll(const std::string& path, const TaggedReadOptions& options, TaggedData& data) {
  LineSource source(path);
  BadSentences bad(options.skip_bad_rows, data);
  std::vector<RawLine> pending;           // the token lines of the sentence being read
  std::vector<std::string> separators;    // blank and -DOCSTART- lines not yet written anywhere
  const auto flush = [&] {
    if (pending.empty()) return;
    try {
      auto s = conll_sentence(pending, options, path);
      s.preceding_lines = std::move(separators);
      separators.clear();
      data.sentences.push_back(std::move(s));
    } catch (const BadRow& problem) {
      bad.handle(problem);  // its separators stay, to be written before the next sentence
    }
    pending.clear();
  };
  std::string line;
  while (source.next(line)) {
    const bool docstart = line.rfind("-DOCSTART-", 0) == 0 && split_columns(line).front() == "-DOCSTART-";
    if (is_blank(line) || docstart) {
      flush();
      separators.push_back(line);
    } else {
      pending.push_back({source.line(), line});
    }
  }
  flush();
  data.trailing_lines = std::move(separators);
}

// ---- JSON lines ----------------------------------------------------------

std::vector<std::string> string_list(const nlohmann::json& value, const std::string& key, const std::string& path,
                                     std::int64_t line) {
  if (!value.is_array()) throw BadRow(path, line, "\"" + key + "\" is not a list");
  std::vector<std::string> out;
  out.reserve(value.size());
  for (const auto& v : value) {
    if (!v.is_string()) throw BadRow(path, line, "\"" + key + "\" holds " + v.dump() + ", not a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "tags" (strings), or "ner_tags" (strings, or ids into options.label_names).
std::optional<std::vector<std::string>> json_tags(const nlohmann::json& object, const TaggedReadOptions& options,
                                                  const std::string& path, std::int64_t line) {
  const auto has = [&](const char* key) { return object.contains(key) && !object[key].is_null(); };
  if (has("tags")) return string_list(object["tags"], "tags", path, line);
  if (!has("ner_tags")) return std::nullopt;
  const auto& value = object["ner_tags"];
  if (!value.is_array() || value.empty() || !value.front().is_number_integer())
    return string_list(value, "ner_tags", path, line);
  if (options.label_names.empty())
    throw BadRow(path, line, "\"ner_tags\" holds integer ids, which need the label list (data.labels) to name them");
  std::vector<std::string> out;
  for (const auto& v : value) {
    const auto id = v.is_number_integer() ? v.get<std::int64_t>() : -1;
    if (id < 0 || id >= static_cast<std::int64_t>(options.label_names.size()))
      throw BadRow(path, line, "\"ner_tags\" holds " + v.dump() + ", not an id of the " +
                                   std::to_string(options.label_names.size()) + " labels");
    out.push_back(options.label_names[static_cast<std::size_t>(id)]);
  }
  return out;
}

TaggedSentence token_sentence(nlohmann::json object, const TaggedReadOptions& options, const std::string& path,
                              std::int64_t line) {
  TaggedSentence s;
  s.line = line;
  s.tokens = string_list(object["tokens"], "tokens", path, line);
  if (s.tokens.empty()) throw BadRow(path, line, "an empty sentence (\"tokens\" is [])");
  if (auto tags = json_tags(object, options, path, line)) {
    if (tags->size() != s.tokens.size())
      throw BadRow(path, line,
                   std::to_string(s.tokens.size()) + " tokens but " + std::to_string(tags->size()) + " tags");
    set_tags(s, *tags, options, path, [&](std::size_t) { return line; });
  } else if (options.labels_required) {
    throw BadRow(path, line, "no \"tags\" (or \"ner_tags\") for the \"tokens\"");
  }
  s.object = std::move(object);
  return s;
}

// CLUENER text as code points: the byte offset of each, and its token (-1
// for whitespace, which is no token: a WordPiece tokenizer gives it no piece).
struct CodePoints {
  std::vector<std::size_t> offsets;  // one per code point, plus the end
  std::vector<std::int64_t> token;
};

CodePoints split_text(TaggedSentence& s) {
  CodePoints cps;
  const char* begin = s.text.data();
  const char* end = begin + s.text.size();
  for (const char* p = begin; p < end;) {
    char32_t cp = 0;
    const int n = tok::unicode::decode_utf8(p, end, &cp);
    const std::size_t len = n > 0 ? static_cast<std::size_t>(n) : 1;  // JSON strings are valid UTF-8 already
    const auto index = static_cast<std::int64_t>(cps.offsets.size());
    cps.offsets.push_back(static_cast<std::size_t>(p - begin));
    if (tok::unicode::is_whitespace(cp)) {
      cps.token.push_back(-1);
    } else {
      cps.token.push_back(static_cast<std::int64_t>(s.tokens.size()));
      s.tokens.emplace_back(p, len);
      s.char_spans.emplace_back(index, index + 1);
    }
    p += len;
  }
  cps.offsets.push_back(s.text.size());
  return cps;
}

// Tags from {"TYPE": {"entity text": [[start, end_inclusive], ...]}}.
void cluener_tags(TaggedSentence& s, const CodePoints& cps, const nlohmann::json& label, const std::string& path,
                  std::int64_t line) {
  if (!label.is_object()) throw BadRow(path, line, "\"label\" is not an object of {TYPE: {entity: [[start, end]]}}");
  const auto length = static_cast<std::int64_t>(cps.token.size());
  std::vector<std::string> owner(cps.token.size());  // which mention covers each code point
  s.tags.assign(s.tokens.size(), "O");
  for (const auto& [type, entities] : label.items()) {
    if (type.empty() || !entities.is_object())
      throw BadRow(path, line, "label." + type + " is not an object of {entity: [[start, end]]}");
    for (const auto& [entity, spans] : entities.items()) {
      const std::string where = "label." + type + "." + shown(entity);
      if (!spans.is_array()) throw BadRow(path, line, where + " is not a list of [start, end]");
      for (const auto& span : spans) {
        if (!span.is_array() || span.size() != 2 || !span[0].is_number_integer() || !span[1].is_number_integer())
          throw BadRow(path, line, where + ": " + span.dump() + " is not [start, end]");
        const auto start = span[0].get<std::int64_t>(), last = span[1].get<std::int64_t>();
        const std::string mention = where + " " + span.dump();
        if (start < 0 || last < start || last >= length)
          throw BadRow(path, line, mention + " is outside the text's " + std::to_string(length) + " characters");
        const auto from = cps.offsets[static_cast<std::size_t>(start)];
        const auto to = cps.offsets[static_cast<std::size_t>(last + 1)];
        if (s.text.compare(from, to - from, entity) != 0)
          throw BadRow(path, line, mention + ": the text there is " + shown(s.text.substr(from, to - from)));
        bool first = true;
        for (auto c = start; c <= last; ++c) {
          auto& o = owner[static_cast<std::size_t>(c)];
          if (!o.empty()) throw BadRow(path, line, mention + " overlaps " + o);
          o = mention;
          const auto t = cps.token[static_cast<std::size_t>(c)];
          if (t < 0) continue;
          s.tags[static_cast<std::size_t>(t)] = (first ? "B-" : "I-") + type;
          first = false;
        }
        if (first) throw BadRow(path, line, mention + " is only whitespace");
      }
    }
  }
}

TaggedSentence cluener_sentence(nlohmann::json object, const TaggedReadOptions& options, const std::string& path,
                                std::int64_t line) {
  TaggedSentence s;
  s.line = line;
  if (!object["text"].is_string()) throw BadRow(path, line, "\"text\" is not a string");
  s.text = object["text"].get<std::string>();
  const auto cps = split_text(s);
  if (s.tokens.empty()) throw BadRow(path, line, "an empty sentence (\"text\" has no non-whitespace character)");
  if (object.contains("label") && !object["label"].is_null()) {
    cluener_tags(s, cps, object["label"], path, line);
  } else if (options.labels_required) {
    throw BadRow(path, line, "no \"label\" for the \"text\"");
  }
  s.object = std::move(object);
  return s;
}

TaggedSentence json_sentence(const std::string& text, const TaggedReadOptions& options, const std::string& path,
                             std::int64_t line) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw BadRow(path, line, std::string("not valid JSON: ") + e.what());
  }
  if (!object.is_object()) throw BadRow(path, line, "not a JSON object");
  if (object.contains("tokens")) return token_sentence(std::move(object), options, path, line);
  if (object.contains("text")) return cluener_sentence(std::move(object), options, path, line);
  throw BadRow(path, line, "neither \"tokens\" (with \"tags\") nor \"text\" (with a CLUENER \"label\")");
}

void read_jsonl(const std::string& path, const TaggedReadOptions& options, TaggedData& data) {
  LineSource source(path);
  BadSentences bad(options.skip_bad_rows, data);
  std::string line;
  while (source.next(line)) {
    if (is_blank(line)) continue;
    try {
      data.sentences.push_back(json_sentence(line, options, path, source.line()));
    } catch (const BadRow& problem) {
      bad.handle(problem);
    }
  }
}

}  // namespace

TaggedFormat parse_tagged_format(const std::string& name, const std::string& path) {
  if (name == "conll") return TaggedFormat::Conll;
  if (name == "jsonl") return TaggedFormat::Jsonl;
  if (name != "auto") bf::fail("format '" + name + "' is not one of auto, conll, jsonl");
  return ends_with(path, ".jsonl") || ends_with(path, ".json") ? TaggedFormat::Jsonl : TaggedFormat::Conll;
}

std::string tagged_format_name(TaggedFormat format) { return format == TaggedFormat::Jsonl ? "jsonl" : "conll"; }

std::vector<std::string> split_columns(const std::string& line) {
  std::vector<std::string> out;
  for (auto start = line.find_first_not_of(" \t"); start != std::string::npos;) {
    const auto stop = std::min(line.find_first_of(" \t", start), line.size());
    out.push_back(line.substr(start, stop - start));
    start = line.find_first_not_of(" \t", stop);
  }
  if (out.empty()) out.emplace_back();
  return out;
}

TaggedData read_tagged(const std::string& path, const TaggedReadOptions& options) {
  TaggedData data;
  data.path = path;
  data.format = parse_tagged_format(options.format, path);
  if (data.format == TaggedFormat::Jsonl)
    read_jsonl(path, options, data);
  else
    read_conll(path, options, data);
  return data;
}

}  // namespace bf::ft::tagging
