#pragma once
// Reads documents from the configured inputs: files or globs, plain or gzip
// (zlib reads both), in Google's format (one sentence per line) or paragraph
// format (one paragraph per line, split by the built-in splitter). A blank
// line or the end of a file ends a document. Bad input is counted, then
// repaired, skipped or reported as file:line according to the policy.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/data_config.h"

namespace bf::data {

struct Document {
  std::vector<std::string> sentences;
  std::vector<std::int64_t> lines;  // per sentence: its line in the file (data.word_refs maps lines)
  std::string source;  // "file:line" of its first line, for messages
};

struct InputStats {
  std::int64_t files = 0;
  std::int64_t bytes = 0;  // raw (uncompressed) bytes read
  std::int64_t lines = 0;
  std::int64_t documents = 0;
  std::int64_t sentences = 0;
  std::int64_t empty_documents = 0;  // blank runs, documents whose lines were all skipped
  std::int64_t empty_files = 0;
  std::int64_t binary_files = 0;     // skipped whole
  std::int64_t invalid_utf8_lines = 0;
  std::int64_t nul_lines = 0;
  std::int64_t long_lines = 0;
  std::int64_t skipped_lines = 0;    // dropped by the skip policy
  std::int64_t repaired_lines = 0;   // changed by the replace policy

  std::int64_t problems() const { return empty_files + binary_files + invalid_utf8_lines + nul_lines + long_lines; }
  nlohmann::json to_json() const;
  std::string summary() const;
};

// Expands globs (sorted, so the order is stable); a pattern that matches
// nothing is an error.
std::vector<std::pair<std::string, std::string>> expand_inputs(const std::vector<InputSpec>& inputs);

class CorpusReader {
 public:
  // files: (path, format) pairs as expand_inputs returns them.
  CorpusReader(std::vector<std::pair<std::string, std::string>> files, std::string bad_input_policy,
               std::size_t max_line_bytes);
  ~CorpusReader();
  CorpusReader(const CorpusReader&) = delete;
  CorpusReader& operator=(const CorpusReader&) = delete;

  // Fills doc with the next non-empty document; false at the end of the inputs.
  bool next(Document& doc);

  const InputStats& stats() const { return stats_; }
  // Compressed bytes consumed so far, against total_file_bytes(), for progress.
  std::int64_t file_bytes_done() const;
  std::int64_t total_file_bytes() const { return total_file_bytes_; }

 private:
  class OpenFile;
  bool open_next_file();
  // Next line of the current file, cleaned per policy; false at end of file.
  bool next_line(std::string& line, bool& skipped);

  std::vector<std::pair<std::string, std::string>> files_;
  std::string policy_;
  std::size_t max_line_bytes_;
  std::size_t next_file_ = 0;
  std::unique_ptr<OpenFile> file_;
  std::int64_t finished_file_bytes_ = 0;
  std::int64_t total_file_bytes_ = 0;
  InputStats stats_;
};

}  // namespace bf::data
