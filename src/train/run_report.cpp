#include "train/run_report.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <algorithm>
#include <set>

#include "train/metrics_log.h"
#include "train/svg_chart.h"
#include "util/fs.h"

namespace bf::train {

namespace {

// Record keys that are coordinates or bookkeeping, never curves.
const std::set<std::string> kNotCurves = {"step", "type", "epoch", "time", "timestamp", "wall_time", "elapsed_s"};

const char* const kStyle = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 760px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
td.num { font-family: monospace; }
.status { font-size: 1.05em; color: #555; }
svg.chart { display: block; margin: 1em 0; max-width: 100%; height: auto; }
svg .title { font-size: 14px; font-weight: bold; }
svg .tick, svg .legend { font-size: 11px; fill: #444; }
svg .label { font-size: 12px; fill: #222; }
svg .grid { stroke: #e6e6e6; }
svg .axis { stroke: #888; }
svg .frame { fill: none; stroke: #888; }
footer { margin-top: 2em; font-size: 0.8em; color: #888; }
)";

std::string format_number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string json_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return format_number(v.get<double>());
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// {"a": {"b": 1}} -> ("a.b", 1); arrays and scalars stay whole.
void flatten(const nlohmann::json& v, const std::string& prefix, std::vector<std::pair<std::string, nlohmann::json>>& out) {
  if (v.is_object() && !v.empty()) {
    for (auto it = v.begin(); it != v.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out.emplace_back(prefix, v);
  }
}

std::string table(const std::vector<std::pair<std::string, nlohmann::json>>& rows) {
  std::string html = "<table>\n";
  for (const auto& [key, value] : rows) {
    html += "<tr><th>" + html_escape(key) + "</th><td" + (value.is_number() ? " class=\"num\"" : "") + ">" +
            html_escape(json_text(value)) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

// One series per numeric key of the records of this type, in first-seen order.
std::vector<ChartSeries> series_of(const std::vector<nlohmann::json>& records, const std::string& type) {
  std::vector<ChartSeries> series;
  std::map<std::string, std::size_t> index;
  for (const auto& r : records) {
    if (r.value("type", "") != type || !r.contains("step") || !r["step"].is_number()) continue;
    const double step = r["step"].get<double>();
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (kNotCurves.count(it.key()) || !it.value().is_number()) continue;
      auto [pos, added] = index.emplace(it.key(), series.size());
      if (added) series.push_back({it.key(), {}, {}});
      series[pos->second].x.push_back(step);
      series[pos->second].y.push_back(it.value().get<double>());
    }
  }
  return series;
}

bool is_loss(const std::string& key) { return key.find("loss") != std::string::npos; }
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
// X_random_init is the reference drawn in X's chart (e.g. the probe of the
// step-0 weights beside the probe of the current ones); timings are not curves.
const std::string kReference = "_random_init";
bool own_chart(const std::string& key) { return !ends_with(key, kReference) && !ends_with(key, "seconds"); }

// Loss-like series share one chart; every other series gets its own.
std::string charts(const std::vector<ChartSeries>& series, const std::string& loss_title, const std::string& prefix,
                   const std::set<std::string>& skip) {
  std::string html;
  Chart losses{loss_title, "step", "loss", {}};
  for (const auto& s : series) {
    if (is_loss(s.name) && !skip.count(s.name)) losses.series.push_back(s);
  }
  if (!losses.series.empty()) html += render_svg_chart(losses);
  for (const auto& s : series) {
    if (is_loss(s.name) || skip.count(s.name) || !own_chart(s.name)) continue;
    Chart chart{prefix + s.name, "step", s.name, {s}};
    for (const auto& reference : series) {
      if (reference.name == s.name + kReference) chart.series.push_back(reference);
    }
    html += render_svg_chart(chart);
  }
  return html;
}

const nlohmann::json* last_of(const std::vector<nlohmann::json>& records, const std::string& type) {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->value("type", "") == type) return &*it;
  }
  return nullptr;
}

std::string events_table(const std::vector<nlohmann::json>& records) {
  std::string html;
  for (const auto& r : records) {
    if (r.value("type", "") != "event") continue;
    nlohmann::json rest = r;
    rest.erase("type");
    const std::string step = rest.contains("step") ? json_text(rest["step"]) : "";
    rest.erase("step");
    std::string text = rest.contains("message") ? json_text(rest["message"]) : "";
    rest.erase("message");
    if (!rest.empty()) text += (text.empty() ? "" : " ") + json_text(rest);
    html += "<tr><td class=\"num\">" + html_escape(step) + "</td><td>" + html_escape(text) + "</td></tr>\n";
  }
  return html.empty() ? "" : "<h2>Events</h2>\n<table>\n<tr><th>step</th><th>event</th></tr>\n" + html + "</table>\n";
}

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

std::string render_run_report(const std::vector<nlohmann::json>& records, const nlohmann::json& summary) {
  const std::string name = summary.is_object() && summary.contains("name") ? json_text(summary["name"]) : "run";
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bertforge run: " +
                     html_escape(name) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>" + html_escape(name) + "</h1>\n";
  if (summary.is_object() && summary.contains("status")) {
    html += "<p class=\"status\">Status: " + html_escape(json_text(summary["status"])) + "</p>\n";
  }

  std::vector<std::pair<std::string, nlohmann::json>> rows;
  flatten(summary, "", rows);
  html += "<h2>Summary</h2>\n" + table(rows);

  const auto train = series_of(records, "train");
  const auto eval = series_of(records, "eval");
  if (train.empty() && eval.empty()) html += "<p>No metrics recorded yet.</p>\n";
  if (!train.empty()) html += "<h2>Training</h2>\n" + charts(train, "Training loss", "", {"lr"});
  if (!eval.empty()) html += "<h2>Evaluation</h2>\n" + charts(eval, "Evaluation loss", "Evaluation: ", {});
  for (const auto& s : train) {
    if (s.name == "lr") html += "<h2>Learning rate</h2>\n" + render_svg_chart(Chart{"Learning rate", "step", "lr", {s}});
  }

  for (const auto* type : {"train", "eval"}) {
    if (const auto* last = last_of(records, type)) {
      std::vector<std::pair<std::string, nlohmann::json>> values;
      flatten(*last, "", values);
      values.erase(std::remove_if(values.begin(), values.end(), [](const auto& kv) { return kv.first == "type"; }),
                   values.end());
      html += std::string("<h2>Last ") + (std::string(type) == "train" ? "training" : "evaluation") + " record</h2>\n" +
              table(values);
    }
  }
  html += events_table(records);
  html += "<footer>bertforge " BERTFORGE_VERSION " &middot; written " + now_utc() + "</footer>\n</body>\n</html>\n";
  return html;
}

void write_run_report(const std::string& run_dir, const nlohmann::json& summary) {
  const std::string metrics = run_dir + "/metrics.jsonl";
  const auto records = path_exists(metrics) ? read_metrics(metrics) : std::vector<nlohmann::json>{};
  write_file_atomic(run_dir + "/report.html", render_run_report(records, summary));
}

}  // namespace bf::train
