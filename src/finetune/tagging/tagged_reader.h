#pragma once
// Labelled sentences for token classification, from CoNLL-style column files
// or JSON lines (pre-split tokens with tags, or CLUENER's text with character
// spans). Tags are checked against the scheme and turned into IOB2 on read;
// a malformed sentence is a BadRow naming file:line, skipped (counted) or
// thrown as the caller chooses.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "finetune/tagging/tag_scheme.h"

namespace bf::ft::tagging {

enum class TaggedFormat { Conll, Jsonl };

// "conll" | "jsonl" | "auto" (.jsonl/.json: JSON lines, anything else: CoNLL).
TaggedFormat parse_tagged_format(const std::string& name, const std::string& path);
std::string tagged_format_name(TaggedFormat format);

struct TaggedReadOptions {
  std::string format = "auto";
  TagScheme scheme = TagScheme::Iob2;
  // Tags that break the scheme's sequence rules are bad rows, instead of
  // being read as conlleval reads them.
  bool strict = false;
  // False for predict: CoNLL lines with only a token and JSON lines without
  // tags/label are read as sentences without tags.
  bool labels_required = true;
  bool skip_bad_rows = false;
  // Names of the integer ids in a JSON line's "ner_tags"; empty: integer tags
  // are a bad row.
  std::vector<std::string> label_names;
};

struct TaggedSentence {
  std::int64_t line = 0;                // 1-based line of the first token (CoNLL) or of the object
  std::vector<std::string> tokens;
  std::vector<std::string> tags;        // IOB2; empty when the input had none
  std::vector<std::string> lines;       // CoNLL: each token's line as it was, for pass-through output
  std::vector<std::string> preceding_lines;  // CoNLL: the blank and -DOCSTART- lines before it, as they were
  nlohmann::json object;                // JSONL: the object as it was
  std::string text;                     // CLUENER: the text
  // CLUENER: per token, its code points [first, second) in `text`.
  std::vector<std::pair<std::int64_t, std::int64_t>> char_spans;

  bool is_cluener() const { return !object.is_null() && !object.contains("tokens"); }
};

struct TaggedData {
  std::string path;
  TaggedFormat format = TaggedFormat::Conll;
  std::vector<TaggedSentence> sentences;
  std::vector<std::string> trailing_lines;  // CoNLL: separator lines after the last sentence
  std::int64_t skipped = 0;                 // bad sentences skipped
  std::vector<std::string> skipped_examples;  // the first few skipped sentences' messages, for the log
};

// Every sentence of the file. Throws BadRow for the first bad sentence unless
// skip_bad_rows, and bf::Error when the file cannot be read.
TaggedData read_tagged(const std::string& path, const TaggedReadOptions& options);

// Splits one CoNLL line into columns on runs of tabs and spaces, as conlleval
// does: a token never holds a space, and a space-separated file with our
// tab-separated prediction column appended reads back the same. Exposed for tests.
std::vector<std::string> split_columns(const std::string& line);

}  // namespace bf::ft::tagging
