#include "finetune/row_writer.h"

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace bf::ft {
namespace {

// TSV has no quoting: a tab or newline inside a field would break the row.
std::string tsv_field(std::string s) {
  for (auto& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string join_row(const std::vector<std::string>& fields, FileFormat format) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += format == FileFormat::Csv ? "," : "\t";
    line += format == FileFormat::Csv ? csv_field(fields[i]) : tsv_field(fields[i]);
  }
  return line + "\n";
}

OutputFile::OutputFile(const std::string& path) : path_(path) {
  file_ = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!file_) bf::fail(path + ": cannot write: " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (file_ && file_ != stdout) std::fclose(file_);
}

void OutputFile::write(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), file_) != s.size()) bf::fail(path_ + ": write failed");
}

void OutputFile::flush() { std::fflush(file_); }

}  // namespace bf::ft
