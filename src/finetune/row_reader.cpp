#include "finetune/row_reader.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace bf::ft {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

FileFormat parse_format(const std::string& name, const std::string& path) {
  if (name == "tsv") return FileFormat::Tsv;
  if (name == "csv") return FileFormat::Csv;
  if (name == "jsonl") return FileFormat::Jsonl;
  if (name == "text") return FileFormat::Text;
  if (name != "auto") bf::fail("format '" + name + "' is not one of auto, tsv, csv, jsonl, text");
  std::string p = path;
  if (ends_with(p, ".gz")) p = p.substr(0, p.size() - 3);
  if (ends_with(p, ".tsv")) return FileFormat::Tsv;
  if (ends_with(p, ".csv")) return FileFormat::Csv;
  if (ends_with(p, ".jsonl") || ends_with(p, ".json")) return FileFormat::Jsonl;
  if (ends_with(p, ".txt") || path == "-") return FileFormat::Text;
  bf::fail(path + ": cannot tell the format from the name; set it (tsv, csv, jsonl or text)");
}

std::string format_name(FileFormat format) {
  switch (format) {
    case FileFormat::Tsv: return "tsv";
    case FileFormat::Csv: return "csv";
    case FileFormat::Jsonl: return "jsonl";
    case FileFormat::Text: return "text";
  }
  return "tsv";
}

bool is_valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

bool CsvRecordParser::feed(const std::string& line) {
  if (in_quotes_) field_ += '\n';  // the record continues on this line, inside a quoted field
  bool after_quote = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes_) {
      if (c != '"') {
        field_ += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        field_ += '"';
        ++i;
      } else {
        in_quotes_ = false;
        after_quote = true;
      }
    } else if (c == ',') {
      fields_.push_back(std::move(field_));
      field_.clear();
      after_quote = false;
    } else if (c == '"' && field_.empty() && !after_quote) {
      in_quotes_ = true;
    } else {
      // A stray quote, or text after a closing quote: kept, but not RFC 4180.
      if (c == '"' || after_quote) quote_error_ = true;
      field_ += c;
    }
  }
  return !in_quotes_;
}

std::vector<std::string> CsvRecordParser::take() {
  fields_.push_back(std::move(field_));
  std::vector<std::string> out = std::move(fields_);
  fields_.clear();
  field_.clear();
  in_quotes_ = quote_error_ = false;
  return out;
}

// Lines from a file, a gzip file or stdin: zlib reads plain input unchanged.
struct RowReader::Source {
  gzFile gz = nullptr;
  std::int64_t line = 0;
  std::vector<char> buffer = std::vector<char>(1 << 16);

  explicit Source(const std::string& path) {
    gz = path == "-" ? ::gzdopen(::dup(0), "rb") : ::gzopen(path.c_str(), "rb");
    if (!gz) bf::fail(path + ": cannot open: " + std::strerror(errno));
    ::gzbuffer(gz, 1 << 18);
  }
  ~Source() {
    if (gz) ::gzclose(gz);
  }
  bool getline(std::string& out) {
    out.clear();
    bool any = false;
    while (::gzgets(gz, buffer.data(), static_cast<int>(buffer.size())) != nullptr) {
      any = true;
      out += buffer.data();
      if (!out.empty() && out.back() == '\n') break;
    }
    if (!any) return false;
    ++line;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    if (!out.empty() && out.back() == '\r') out.pop_back();
    // A UTF-8 byte-order mark (MRPC's files have one) is not part of the first field.
    if (line == 1 && out.rfind("\xEF\xBB\xBF", 0) == 0) out.erase(0, 3);
    return true;
  }
};

RowReader::RowReader(const std::string& path, FileFormat format, Columns columns)
    : path_(path), format_(format), columns_(std::move(columns)), source_(std::make_unique<Source>(path)) {
  if (format_ == FileFormat::Tsv || format_ == FileFormat::Csv) read_header();
}

RowReader::~RowReader() = default;

bool RowReader::read_record(std::vector<std::string>& fields, std::int64_t& line) {
  std::string text;
  if (format_ == FileFormat::Tsv) {
    do {
      if (!source_->getline(text)) return false;
    } while (text.empty());
    line = source_->line;
    fields = split_tabs(text);
    return true;
  }
  CsvRecordParser parser;
  do {
    if (!source_->getline(text)) return false;
  } while (text.empty());
  line = source_->line;
  while (!parser.feed(text)) {
    if (!source_->getline(text)) throw BadRow(path_, line, "a quoted field is not closed before the end of the file");
  }
  const bool bad_quotes = parser.quote_error();
  fields = parser.take();
  if (bad_quotes) throw BadRow(path_, line, "malformed quoting (RFC 4180: a quote inside a field must be doubled)");
  return true;
}

std::size_t RowReader::column_index(const std::string& name, bool required) const {
  for (std::size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return i;
  if (!required) return kAbsent;
  if (!columns_.has_header || !columns_.names.empty())
    bf::fail(path_ + ": no column '" + name + "' (a file without a header; its columns: " + list_names(header_) +
             " from data.columns, or 0, 1, ... by position)");
  bf::fail(path_ + ":1: no column '" + name + "' in the header (columns: " + list_names(header_) + ")");
}

void RowReader::read_header() {
  std::int64_t line = 0;
  if (!columns_.names.empty()) {
    header_ = columns_.names;
  } else if (!columns_.has_header) {
    std::vector<std::string> fields;
    if (read_record(fields, line)) {
      for (std::size_t i = 0; i < fields.size(); ++i) header_.push_back(std::to_string(i));
      first_record_.emplace(std::move(fields), line);
    }
  } else if (!read_record(header_, line)) {
    bf::fail(path_ + ": empty file (expected a header row)");
  }
  text_index_ = column_index(columns_.text, true);
  pair_index_ = columns_.text_pair.empty() ? kAbsent : column_index(columns_.text_pair, true);
  label_index_ = columns_.label.empty() ? kAbsent : column_index(columns_.label, columns_.label_required);
}

void RowReader::fill_from_fields(Row& row) {
  if (row.fields.size() != header_.size())
    throw BadRow(path_, row.line,
                 std::to_string(row.fields.size()) +
                     (columns_.has_header && columns_.names.empty() ? " fields, the header has "
                                                                    : " fields, the columns are ") +
                     std::to_string(header_.size()));
  row.text = row.fields[text_index_];
  if (pair_index_ != kAbsent) row.text_pair = row.fields[pair_index_];
  if (label_index_ != kAbsent) row.label = row.fields[label_index_];
}

void RowReader::fill_from_json(Row& row, const std::string& text) {
  try {
    row.object = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number that overflows
    throw BadRow(path_, row.line, std::string("invalid JSON: ") + e.what());
  }
  if (!row.object.is_object()) throw BadRow(path_, row.line, "expected a JSON object");
  auto string_field = [&](const std::string& key) -> std::string {
    auto it = row.object.find(key);
    if (it == row.object.end() || it->is_null()) throw BadRow(path_, row.line, "missing field '" + key + "'");
    if (!it->is_string()) throw BadRow(path_, row.line, "field '" + key + "' must be a string");
    return it->get<std::string>();
  };
  row.text = string_field(columns_.text);
  if (!columns_.text_pair.empty()) row.text_pair = string_field(columns_.text_pair);
  if (!columns_.label.empty()) {
    auto it = row.object.find(columns_.label);
    if (it != row.object.end()) row.label = *it;
  }
}

bool RowReader::next(Row& row) {
  row = Row{};
  if (format_ == FileFormat::Text || format_ == FileFormat::Jsonl) {
    std::string text;
    do {
      if (!source_->getline(text)) return false;
    } while (text.empty());
    row.line = source_->line;
    if (format_ == FileFormat::Text) {
      row.text = std::move(text);
    } else {
      fill_from_json(row, text);
    }
  } else {
    if (first_record_) {
      row.fields = std::move(first_record_->first);
      row.line = first_record_->second;
      first_record_.reset();
    } else if (!read_record(row.fields, row.line)) {
      return false;
    }
    fill_from_fields(row);
  }
  if (row.label.is_null() && columns_.label_required && !columns_.label.empty() && format_ != FileFormat::Text)
    throw BadRow(path_, row.line, "missing label '" + columns_.label + "'");
  if (!is_valid_utf8(row.text) || (row.text_pair && !is_valid_utf8(*row.text_pair)))
    throw BadRow(path_, row.line, "invalid UTF-8");
  if (row.text.find_first_not_of(" \t\r\n") == std::string::npos) throw BadRow(path_, row.line, "empty text");
  if (row.text_pair && row.text_pair->find_first_not_of(" \t\r\n") == std::string::npos)
    throw BadRow(path_, row.line, "empty text pair");
  return true;
}

}  // namespace bf::ft
