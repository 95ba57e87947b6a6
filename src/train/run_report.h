#pragma once
// report.html: one self-contained page per run (inline SVG, inline CSS, no
// scripts, nothing fetched), rewritten at every checkpoint and at the end.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bf::train {

// Reads run_dir/metrics.jsonl (missing = no curves yet) and atomically writes
// run_dir/report.html. summary: "name", "status", config summary, best eval,
// ... — any JSON object; nested objects are shown with dotted keys.
void write_run_report(const std::string& run_dir, const nlohmann::json& summary);

// The page itself, from already-read metrics records.
std::string render_run_report(const std::vector<nlohmann::json>& records, const nlohmann::json& summary);

}  // namespace bf::train
