#include "finetune/qa/squad_reader.h"

#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/error.h"
#include "util/fs.h"

namespace bf::ft::qa {
namespace {

using nlohmann::json;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::int64_t count_chars(std::string_view text) {
  std::int64_t n = 0;
  for (char c : text) n += !is_continuation(c);
  return n;
}

// Errors name the file and the key path, so a bad entry in a 30 MB file can
// be found without a debugger.
class Where {
 public:
  explicit Where(const std::string& file) : file_(file) {}
  [[noreturn]] void fail_at(const std::string& path, const std::string& message) const {
    fail(file_ + ": " + path + ": " + message);
  }

  const json& member(const json& object, const char* key, const std::string& path) const {
    const auto it = object.find(key);
    if (it == object.end()) fail_at(path + "." + key, "is missing");
    return *it;
  }
  const json& array(const json& object, const char* key, const std::string& path) const {
    const json& value = member(object, key, path);
    if (!value.is_array()) fail_at(path + "." + key, "must be an array, not " + std::string(value.type_name()));
    return value;
  }
  const json& object_at(const json& value, const std::string& path) const {
    if (!value.is_object()) fail_at(path, "must be an object, not " + std::string(value.type_name()));
    return value;
  }
  std::string string(const json& object, const char* key, const std::string& path) const {
    const json& value = member(object, key, path);
    if (!value.is_string()) fail_at(path + "." + key, "must be a string, not " + std::string(value.type_name()));
    return value.get<std::string>();
  }
  std::string optional_string(const json& object, const char* key, const std::string& path) const {
    return object.contains(key) ? string(object, key, path) : std::string();
  }
  // Some SQuAD-style files number their questions; ids are compared as text.
  std::string id(const json& object, const std::string& path) const {
    const json& value = member(object, "id", path);
    std::string id;
    if (value.is_string()) {
      id = value.get<std::string>();
    } else if (value.is_number_integer()) {
      id = value.dump();
    } else {
      fail_at(path + ".id", "must be a string or an integer, not " + std::string(value.type_name()));
    }
    if (id.empty()) fail_at(path + ".id", "must not be empty");
    return id;
  }
  std::int64_t integer(const json& object, const char* key, const std::string& path) const {
    const json& value = member(object, key, path);
    if (!value.is_number_integer()) fail_at(path + "." + key, "must be an integer, not " + value.dump());
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
      fail_at(path + "." + key, "is out of range");
    return value.get<std::int64_t>();
  }
  bool optional_bool(const json& object, const char* key, const std::string& path) const {
    if (!object.contains(key)) return false;
    const json& value = object.at(key);
    if (!value.is_boolean()) fail_at(path + "." + key, "must be true or false, not " + value.dump());
    return value.get<bool>();
  }

 private:
  const std::string& file_;
};

// Annotators (and CMRC's extra references, with answer_start -1) sometimes
// give the wrong offset while the text is right; the occurrence nearest to
// the given offset is the one they meant.
std::optional<std::size_t> locate(const std::string& context, const std::string& text, std::int64_t char_start,
                                  bool& relocated) {
  relocated = false;
  if (text.empty()) return std::nullopt;
  if (char_start >= 0) {
    const std::size_t at = byte_offset_of_char(context, char_start);
    if (at != std::string::npos && context.compare(at, text.size(), text) == 0) return at;
  }
  std::optional<std::size_t> best;
  std::int64_t best_distance = 0;
  std::size_t counted_to = 0;
  std::int64_t chars = 0;
  for (std::size_t at = context.find(text); at != std::string::npos; at = context.find(text, at + 1)) {
    if (is_continuation(context[at])) continue;  // only possible for a text that starts mid-character
    chars += count_chars(std::string_view(context).substr(counted_to, at - counted_to));
    counted_to = at;
    const std::int64_t distance = std::llabs(chars - char_start);
    if (!best || distance < best_distance) {
      best = at;
      best_distance = distance;
    }
  }
  relocated = best.has_value();
  return best;
}

struct Reader {
  Where where;
  bool training;
  SquadData out;
  std::unordered_map<std::string, std::string> id_paths;

  void read_answers(const json& qa, const std::string& path, QaExample& example) {
    const json& answers = where.array(qa, "answers", path);
    if (example.is_impossible && !answers.empty())
      where.fail_at(path + ".answers", "is_impossible is true but the question has " + std::to_string(answers.size()) +
                                           " answers (v2.0 keeps them in plausible_answers)");
    for (std::size_t a = 0; a < answers.size(); ++a) {
      const std::string answer_path = path + ".answers[" + std::to_string(a) + "]";
      const json& answer = where.object_at(answers[a], answer_path);
      QaAnswer parsed;
      parsed.text = where.string(answer, "text", answer_path);
      parsed.char_start = where.integer(answer, "answer_start", answer_path);
      ++out.stats.answers;
      example.gold_texts.push_back(parsed.text);
      bool relocated = false;
      const auto start = locate(example.context, parsed.text, parsed.char_start, relocated);
      if (!start) {
        ++out.stats.skipped_answers;
        continue;
      }
      out.stats.relocated_answers += relocated;
      parsed.start = *start;
      example.answers.push_back(std::move(parsed));
    }
  }

  void read_question(const json& qa_value, const std::string& path, const std::string& title,
                     const std::string& context) {
    const json& qa = where.object_at(qa_value, path);
    QaExample example;
    example.id = where.id(qa, path);
    const auto [first, inserted] = id_paths.emplace(example.id, path);
    if (!inserted) where.fail_at(path + ".id", "duplicate id \"" + example.id + "\" (also at " + first->second + ")");
    example.title = title;
    example.question = where.string(qa, "question", path);
    example.context = context;
    if (qa.contains("is_impossible")) out.has_impossible = true;
    example.is_impossible = where.optional_bool(qa, "is_impossible", path);
    read_answers(qa, path, example);
    ++out.stats.questions;
    out.stats.impossible_questions += example.is_impossible;
    if (training && !example.is_impossible && example.answers.empty()) {
      ++out.stats.skipped_questions;
      return;
    }
    out.examples.push_back(std::move(example));
  }

  void read_paragraph(const json& value, const std::string& path, const std::string& title) {
    const json& paragraph = where.object_at(value, path);
    const std::string context = where.string(paragraph, "context", path);
    const json& qas = where.array(paragraph, "qas", path);
    ++out.stats.paragraphs;
    for (std::size_t q = 0; q < qas.size(); ++q)
      read_question(qas[q], path + ".qas[" + std::to_string(q) + "]", title, context);
  }

  void read_root(const json& root) {
    where.object_at(root, "(root)");
    if (root.contains("version")) {
      const json& version = root.at("version");
      out.version = version.is_string() ? version.get<std::string>() : version.dump();
    }
    const json& data = where.array(root, "data", "(root)");
    for (std::size_t d = 0; d < data.size(); ++d) {
      const std::string path = "data[" + std::to_string(d) + "]";
      const json& article = where.object_at(data[d], path);
      const std::string title = where.optional_string(article, "title", path);
      const json& paragraphs = where.array(article, "paragraphs", path);
      ++out.stats.articles;
      for (std::size_t p = 0; p < paragraphs.size(); ++p)
        read_paragraph(paragraphs[p], path + ".paragraphs[" + std::to_string(p) + "]", title);
    }
  }
};

}  // namespace

std::size_t byte_offset_of_char(const std::string& text, std::int64_t char_index) {
  if (char_index < 0) return std::string::npos;
  std::int64_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_continuation(text[i])) continue;
    if (chars == char_index) return i;
    ++chars;
  }
  return chars == char_index ? text.size() : std::string::npos;
}

nlohmann::json SquadReadStats::to_json() const {
  return {{"articles", articles},
          {"paragraphs", paragraphs},
          {"questions", questions},
          {"answers", answers},
          {"relocated_answers", relocated_answers},
          {"skipped_answers", skipped_answers},
          {"skipped_questions", skipped_questions},
          {"impossible_questions", impossible_questions}};
}

SquadData parse_squad(const std::string& json_text, const std::string& name, bool training) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    fail(name + ": not valid JSON: " + e.what());
  }
  Reader reader{Where(name), training, {}, {}};
  reader.read_root(root);
  return std::move(reader.out);
}

SquadData read_squad(const std::string& path, bool training) { return parse_squad(read_file(path), path, training); }

}  // namespace bf::ft::qa
