#pragma once
// SQuAD-layout JSON (v1.1, v2.0 and CMRC 2018, which uses the same layout)
// read into examples whose answers are byte spans of their context. The files
// count answer_start in characters, and some of them get it wrong; every
// answer that survives here points at its text exactly.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bf::ft::qa {

struct QaAnswer {
  std::string text;
  std::size_t start = 0;          // byte offset of text in the context (after any re-location)
  std::int64_t char_start = -1;   // answer_start as the file gave it (characters)
};

struct QaExample {
  std::string id, title, question, context;
  // The answers found in the context; training uses the first one.
  std::vector<QaAnswer> answers;
  // Every answer text the file gave, found or not: scoring compares with these.
  std::vector<std::string> gold_texts;
  bool is_impossible = false;  // v2.0: the context holds no answer
};

struct SquadReadStats {
  int articles = 0;
  int paragraphs = 0;
  int questions = 0;            // in the file
  int answers = 0;              // in the file
  int relocated_answers = 0;    // answer_start did not point at the text; the nearest occurrence was used
  int skipped_answers = 0;      // the text does not occur in the context
  int skipped_questions = 0;    // training only: no answer left and not impossible
  int impossible_questions = 0; // v2.0 is_impossible
  nlohmann::json to_json() const;
};

struct SquadData {
  std::string version;           // "version" as the file gives it, "" when absent
  bool has_impossible = false;   // some question carries is_impossible (a v2.0 file)
  std::vector<QaExample> examples;
  SquadReadStats stats;
};

// training: questions left without an answer are dropped (and counted), as a
// model cannot learn from them; for evaluation they stay, scored on gold_texts.
SquadData read_squad(const std::string& path, bool training);
// The same from JSON text; `name` is what errors call the file.
SquadData parse_squad(const std::string& json_text, const std::string& name, bool training);

// The byte offset of the character at char_index in UTF-8 text, or
// std::string::npos when text has fewer characters.
std::size_t byte_offset_of_char(const std::string& text, std::int64_t char_index);

}  // namespace bf::ft::qa
