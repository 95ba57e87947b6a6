#include "train/metrics_log.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace bf::train {

namespace {

// Unflushed records are at most this old; a crash loses no more than that.
constexpr auto kFlushInterval = std::chrono::seconds(2);

bool valid_type(const nlohmann::json& record) {
  if (!record.is_object() || !record.contains("type") || !record["type"].is_string()) return false;
  const auto& t = record["type"].get_ref<const std::string&>();
  return t == "train" || t == "eval" || t == "event";
}

// Each complete line that parses as a JSON object, with its text.
template <class F>
void for_each_record(const std::string& text, const std::string& path, F&& f) {
  std::size_t begin = 0;
  std::int64_t line_no = 0;
  while (begin < text.size()) {
    const auto end = text.find('\n', begin);
    ++line_no;
    if (end == std::string::npos) {
      spdlog::warn("{}: dropping an unterminated last line (interrupted write)", path);
      return;
    }
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      spdlog::warn("{}:{}: skipping a malformed metrics line", path, line_no);
      continue;
    }
    f(record, line);
  }
}

}  // namespace

MetricsLog::MetricsLog(std::string path, bool append)
    : path_(std::move(path)), last_flush_(std::chrono::steady_clock::now()) {
  file_ = std::fopen(path_.c_str(), append ? "ab" : "wb");
  if (file_ == nullptr) bf::fail("cannot open metrics log " + path_ + ": " + std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json& record) {
  if (!valid_type(record)) bf::fail("metrics record needs \"type\": \"train\", \"eval\" or \"event\": " + record.dump());
  // Non-finite numbers become null (JSON has no NaN); the replace handler
  // keeps odd bytes in event messages from throwing mid-run.
  const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    bf::fail("cannot write metrics log " + path_ + ": " + std::strerror(errno));
  }
  const auto now = std::chrono::steady_clock::now();
  if (record["type"] != "train" || now - last_flush_ >= kFlushInterval) {
    std::fflush(file_);
    last_flush_ = now;
  }
}

void MetricsLog::flush_sync() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    bf::fail("cannot sync metrics log " + path_ + ": " + std::strerror(errno));
  }
  last_flush_ = std::chrono::steady_clock::now();
}

void MetricsLog::truncate_after_step(const std::string& path, std::int64_t step) {
  if (!path_exists(path)) return;
  std::string kept;
  for_each_record(read_file(path), path, [&](const nlohmann::json& record, const std::string& line) {
    const auto it = record.find("step");
    if (it != record.end() && it->is_number() && it->get<double>() > static_cast<double>(step)) return;
    kept += line;
    kept += '\n';
  });
  write_file_atomic(path, kept);
}

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::vector<nlohmann::json> records;
  for_each_record(read_file(path), path, [&](const nlohmann::json& record, const std::string&) {
    records.push_back(record);
  });
  return records;
}

}  // namespace bf::train
