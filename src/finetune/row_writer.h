#pragma once
// Rows written back in their reader's format (row_reader.h): TSV fields with
// their tabs and newlines made spaces (TSV has no quoting), CSV fields quoted
// as RFC 4180 says; and an output file that is stdout for "-".
#include <cstdio>
#include <string>
#include <vector>

#include "finetune/row_reader.h"

namespace bf::ft {

// One line: the fields joined by tabs (TSV) or commas (CSV), with "\n".
std::string join_row(const std::vector<std::string>& fields, FileFormat format);

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);  // "-": stdout
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(const std::string& s);
  void flush();

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

}  // namespace bf::ft
