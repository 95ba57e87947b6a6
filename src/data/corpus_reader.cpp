#include "data/corpus_reader.h"

#include <glob.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/line_cleaner.h"
#include "data/sentence_splitter.h"
#include "util/error.h"

namespace bf::data {

nlohmann::json InputStats::to_json() const {
  return {{"files", files},
          {"bytes", bytes},
          {"lines", lines},
          {"documents", documents},
          {"sentences", sentences},
          {"empty_documents", empty_documents},
          {"empty_files", empty_files},
          {"binary_files", binary_files},
          {"invalid_utf8_lines", invalid_utf8_lines},
          {"nul_lines", nul_lines},
          {"long_lines", long_lines},
          {"skipped_lines", skipped_lines},
          {"repaired_lines", repaired_lines}};
}

std::string InputStats::summary() const {
  std::string s = std::to_string(files) + " files, " + std::to_string(lines) + " lines, " +
                  std::to_string(documents) + " documents, " + std::to_string(sentences) + " sentences";
  std::string issues;
  auto add = [&](std::int64_t n, const char* what) {
    if (n > 0) issues += (issues.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(invalid_utf8_lines, "lines with invalid UTF-8");
  add(nul_lines, "lines with NUL bytes");
  add(long_lines, "over-long lines");
  add(skipped_lines, "lines skipped");
  add(repaired_lines, "lines repaired");
  add(empty_documents, "empty documents");
  add(empty_files, "empty files");
  add(binary_files, "binary files skipped");
  if (!issues.empty()) s += "; " + issues;
  return s;
}

std::vector<std::pair<std::string, std::string>> expand_inputs(const std::vector<InputSpec>& inputs) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& input : inputs) {
    glob_t matches{};
    const int rc = ::glob(input.path.c_str(), GLOB_ERR, nullptr, &matches);
    std::vector<std::string> paths;
    if (rc == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
    }
    ::globfree(&matches);
    if (paths.empty()) bf::fail("data input '" + input.path + "' matches no file");
    std::sort(paths.begin(), paths.end());
    for (auto& path : paths) {
      if (std::filesystem::is_directory(path)) bf::fail("data input '" + path + "' is a directory; give files or a glob");
      files.emplace_back(std::move(path), input.format);
    }
  }
  return files;
}

class CorpusReader::OpenFile {
 public:
  OpenFile(std::string path, std::string format) : path(std::move(path)), format(std::move(format)) {
    file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(this->path));
    gz = ::gzopen(this->path.c_str(), "rb");
    if (!gz) bf::fail(this->path + ": cannot open: " + std::strerror(errno));
    ::gzbuffer(gz, 1 << 18);
    buffer.resize(1 << 20);
  }
  ~OpenFile() {
    if (gz) ::gzclose(gz);
  }

  // Refills the buffer; false at the end of the file.
  bool fill() {
    if (eof) return false;
    const int n = ::gzread(gz, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) {
      int code = 0;
      const char* message = ::gzerror(gz, &code);
      bf::fail(path + ": read error after line " + std::to_string(line_number) + ": " + message);
    }
    begin = 0;
    end = static_cast<std::size_t>(n);
    if (n == 0) eof = true;
    return n > 0;
  }

  std::int64_t compressed_offset() const { return gz ? static_cast<std::int64_t>(::gzoffset(gz)) : 0; }

  std::string path;
  std::string format;
  std::int64_t file_bytes = 0;
  gzFile gz = nullptr;
  std::vector<char> buffer;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool eof = false;
  std::int64_t line_number = 0;
};

CorpusReader::CorpusReader(std::vector<std::pair<std::string, std::string>> files, std::string bad_input_policy,
                           std::size_t max_line_bytes)
    : files_(std::move(files)), policy_(std::move(bad_input_policy)), max_line_bytes_(max_line_bytes) {
  for (const auto& f : files_) total_file_bytes_ += static_cast<std::int64_t>(std::filesystem::file_size(f.first));
}

CorpusReader::~CorpusReader() = default;

std::int64_t CorpusReader::file_bytes_done() const {
  return finished_file_bytes_ + (file_ ? std::min(file_->compressed_offset(), file_->file_bytes) : 0);
}

namespace {

// A file whose first 64 KiB are more than 10% NUL bytes or broken UTF-8 is
// not text: skipping it whole beats turning it into a million [UNK]s.
bool looks_binary(const char* data, std::size_t size) {
  const std::string_view sample(data, std::min<std::size_t>(size, 1 << 16));
  std::size_t bad = 0;
  std::size_t i = 0;
  while (i < sample.size()) {
    const auto b = static_cast<unsigned char>(sample[i]);
    if (b < 0x80) {
      if (b == 0) ++bad;
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(sample.substr(i));
    // A character cut by the end of the sample is not evidence of anything.
    if (n == 0 && sample.size() - i >= 4) ++bad;
    i += n == 0 ? 1 : n;
  }
  return bad * 10 > sample.size();
}

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; });
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool CorpusReader::open_next_file() {
  while (next_file_ < files_.size()) {
    const auto& [path, format] = files_[next_file_++];
    auto file = std::make_unique<OpenFile>(path, format);
    ++stats_.files;
    if (!file->fill()) {
      ++stats_.empty_files;
      spdlog::warn("{}: empty file", path);
      finished_file_bytes_ += file->file_bytes;
      continue;
    }
    if (looks_binary(file->buffer.data(), file->end)) {
      if (policy_ == "error") bf::fail(path + ": looks like a binary file (NUL bytes or invalid UTF-8 in its first 64 KiB)");
      ++stats_.binary_files;
      spdlog::warn("{}: looks like a binary file; skipped", path);
      finished_file_bytes_ += file->file_bytes;
      continue;
    }
    file_ = std::move(file);
    return true;
  }
  return false;
}

bool CorpusReader::next_line(std::string& line, bool& skipped) {
  OpenFile& f = *file_;
  line.clear();
  skipped = false;
  bool too_long = false;
  bool any = false;
  while (true) {
    if (f.begin == f.end && !f.fill()) break;
    any = true;
    const char* start = f.buffer.data() + f.begin;
    const std::size_t available = f.end - f.begin;
    const void* newline = std::memchr(start, '\n', available);
    const std::size_t take = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - start) : available;
    stats_.bytes += static_cast<std::int64_t>(take + (newline ? 1 : 0));
    // Past the limit the rest of the line is read and dropped, so memory stays bounded.
    const std::size_t room = line.size() < max_line_bytes_ ? max_line_bytes_ - line.size() : 0;
    if (take > room) too_long = true;
    line.append(start, std::min(take, room));
    f.begin += take + (newline ? 1 : 0);
    if (newline) break;
  }
  if (!any) return false;
  ++f.line_number;
  ++stats_.lines;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::string where = f.path + ":" + std::to_string(f.line_number);

  if (too_long) {
    ++stats_.long_lines;
    if (policy_ == "error") bf::fail(where + ": line is longer than max_line_bytes (" + std::to_string(max_line_bytes_) + ")");
    if (policy_ == "skip") {
      ++stats_.skipped_lines;
      skipped = true;
      return true;
    }
    line.resize(utf8_prefix_length(line, line.size()));
  }
  const LineCheck check = check_line(line);
  if (check.clean()) return true;
  if (check.invalid_utf8) ++stats_.invalid_utf8_lines;
  if (check.has_nul) ++stats_.nul_lines;
  const std::string what = check.invalid_utf8 && check.has_nul ? "invalid UTF-8 and NUL bytes"
                           : check.invalid_utf8                ? "invalid UTF-8"
                                                               : "NUL bytes";
  if (policy_ == "error") bf::fail(where + ": " + what + " (set data.bad_input: replace or skip to continue)");
  if (policy_ == "skip") {
    ++stats_.skipped_lines;
    skipped = true;
    line.clear();
    return true;
  }
  ++stats_.repaired_lines;
  line = repair_line(line);
  return true;
}

bool CorpusReader::next(Document& doc) {
  doc.sentences.clear();
  doc.lines.clear();
  doc.source.clear();
  std::string line;
  bool saw_lines = false;  // lines since the last boundary, kept or not
  auto end_document = [&]() {
    if (!doc.sentences.empty()) {
      ++stats_.documents;
      stats_.sentences += static_cast<std::int64_t>(doc.sentences.size());
      return true;
    }
    if (saw_lines) ++stats_.empty_documents;
    saw_lines = false;
    return false;
  };
  while (true) {
    if (!file_ && !open_next_file()) return end_document();
    bool skipped = false;
    if (!next_line(line, skipped)) {
      finished_file_bytes_ += file_->file_bytes;
      file_.reset();
      if (end_document()) return true;
      continue;
    }
    if (skipped) {
      saw_lines = true;
      continue;
    }
    if (is_blank(line)) {
      if (end_document()) return true;
      continue;
    }
    saw_lines = true;
    if (doc.source.empty()) doc.source = file_->path + ":" + std::to_string(file_->line_number);
    if (file_->format == "paragraph") {
      for (std::string_view sentence : split_sentences(line)) {
        doc.sentences.emplace_back(sentence);
        doc.lines.push_back(file_->line_number);
      }
    } else {
      const std::string_view sentence = trim(line);
      if (!sentence.empty()) {
        doc.sentences.emplace_back(sentence);
        doc.lines.push_back(file_->line_number);
      }
    }
  }
}

}  // namespace bf::data
