#pragma once
// Labelled text files, one row at a time: TSV (header row, tab-separated, no
// quoting, as GLUE ships them), CSV (header row, RFC 4180 quoting, fields may
// span lines), JSONL (one object per line) and plain text (one text per line,
// no header, no label; for predict and embed). Any of them may be gzipped;
// "-" reads stdin. Row problems are thrown as BadRow naming file:line, so the
// caller can apply the bad-row policy.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace bf::ft {

enum class FileFormat { Tsv, Csv, Jsonl, Text };

// "auto" picks by extension (.tsv .csv .jsonl/.json .txt, each optionally .gz).
FileFormat parse_format(const std::string& name, const std::string& path);
std::string format_name(FileFormat format);

struct Columns {
  std::string text = "text";
  std::string text_pair;  // empty: single texts
  std::string label = "label";
  bool label_required = true;  // false for predict and embed: a missing label column is fine
  // TSV/CSV without a header row (CLUE's, AG News's): `names` names the
  // columns in order; with has_header false and no names, the columns are
  // called by their index ("0", "1", ...).
  std::vector<std::string> names;
  bool has_header = true;
};

struct Row {
  std::int64_t line = 0;  // where the row starts, 1-based
  std::string text;
  std::optional<std::string> text_pair;
  nlohmann::json label;                   // null when absent; a string for TSV/CSV, as written for JSONL
  std::vector<std::string> fields;        // TSV/CSV: every field, for pass-through output
  nlohmann::json object;                  // JSONL: the whole object, for pass-through output
};

class BadRow : public bf::Error {
 public:
  BadRow(const std::string& where, std::int64_t line, const std::string& message)
      : bf::Error(where + ":" + std::to_string(line) + ": " + message), line_(line) {}
  std::int64_t line() const { return line_; }

 private:
  std::int64_t line_;
};

bool is_valid_utf8(const std::string& s);

class RowReader {
 public:
  RowReader(const std::string& path, FileFormat format, Columns columns);
  ~RowReader();
  RowReader(const RowReader&) = delete;
  RowReader& operator=(const RowReader&) = delete;

  // False at the end of the file. Throws BadRow for a malformed row (the
  // reader stays usable: the next call reads the next row).
  bool next(Row& row);

  const std::vector<std::string>& header() const { return header_; }  // TSV/CSV
  FileFormat format() const { return format_; }
  const std::string& path() const { return path_; }

 private:
  struct Source;
  bool read_record(std::vector<std::string>& fields, std::int64_t& line);
  void read_header();
  void fill_from_fields(Row& row);
  void fill_from_json(Row& row, const std::string& text);
  std::size_t column_index(const std::string& name, bool required) const;

  std::string path_;
  FileFormat format_;
  Columns columns_;
  std::unique_ptr<Source> source_;
  std::vector<std::string> header_;
  // A headerless file's first record, read to count its columns.
  std::optional<std::pair<std::vector<std::string>, std::int64_t>> first_record_;
  std::size_t text_index_ = 0, pair_index_ = 0, label_index_ = 0;
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);
};

// Splits one CSV record, which may continue over several lines: feed lines
// until it returns true. Exposed for tests.
class CsvRecordParser {
 public:
  // Returns true when the record is complete; false when a quoted field is still open.
  bool feed(const std::string& line);
  std::vector<std::string> take();
  bool in_quotes() const { return in_quotes_; }
  bool quote_error() const { return quote_error_; }

 private:
  std::vector<std::string> fields_;
  std::string field_;
  bool in_quotes_ = false;
  bool quote_error_ = false;
};

}  // namespace bf::ft
