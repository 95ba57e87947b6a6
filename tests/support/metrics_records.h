#pragma once
// A run's metrics.jsonl, read back by the tests.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>

namespace bf::test {

// The records of one type ("train", "eval") by step, as written.
inline std::map<std::int64_t, nlohmann::json> metrics_records(const std::string& run_dir, const std::string& type) {
  std::map<std::int64_t, nlohmann::json> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == type) out[j["step"].get<std::int64_t>()] = j;
  }
  return out;
}

}  // namespace bf::test
