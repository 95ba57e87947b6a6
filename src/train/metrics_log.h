#pragma once
// metrics.jsonl: one JSON record per line, each with "type" ("train",
// "eval" or "event") and usually "step". Appended as the run goes, flushed
// every couple of seconds, fsync'd at checkpoints.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bf::train {

class MetricsLog {
 public:
  // append = false starts a new file; true continues an existing one (resume).
  MetricsLog(std::string path, bool append);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Throws bf::Error when the record has no valid "type".
  void write(const nlohmann::json& record);
  // Flushes and fsyncs: everything written so far survives a crash.
  void flush_sync();
  const std::string& path() const { return path_; }

  // Drops every record whose "step" is greater than `step` (records without a
  // step are kept), and any line a crash left half-written. Atomic rewrite;
  // a missing file is left missing. Called on resume before appending.
  static void truncate_after_step(const std::string& path, std::int64_t step);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::chrono::steady_clock::time_point last_flush_;
};

// Every well-formed record of a metrics file, in order (malformed lines skipped).
std::vector<nlohmann::json> read_metrics(const std::string& path);

}  // namespace bf::train
