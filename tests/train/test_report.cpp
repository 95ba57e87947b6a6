// metrics.jsonl, the progress line and report.html.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "../support/shared_data.h"
#include "train/metrics_log.h"
#include "train/progress.h"
#include "train/run_report.h"
#include "train/svg_chart.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf;
using nlohmann::json;

namespace {

std::string write_synthetic_metrics(const std::string& dir) {
  const std::string path = dir + "/metrics.jsonl";
  train::MetricsLog log(path, false);
  log.write({{"type", "event"}, {"step", 0}, {"message", "run started"}});
  for (int step = 10; step <= 200; step += 10) {
    const double mlm = 7.0 * std::exp(-step / 100.0);
    log.write({{"type", "train"}, {"step", step}, {"loss", mlm + 0.7}, {"mlm_loss", mlm}, {"nsp_loss", 0.7},
               {"lr", 1e-4 * std::min(1.0, step / 50.0)}, {"grad_norm", 1.5}, {"tokens_per_s", 5000.0}});
    if (step % 50 == 0) {
      log.write({{"type", "eval"}, {"step", step}, {"eval_loss", mlm + 1.0}, {"mlm_accuracy", step / 400.0},
                 {"perplexity", std::exp(mlm)}});
    }
  }
  log.write({{"type", "event"}, {"step", 200}, {"message", "checkpoint <saved>"}});
  log.flush_sync();
  return path;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("MetricsLog writes one JSON record per line and appends on resume", "[train][metrics]") {
  const auto dir = test::temp_dir("metrics-log");
  const auto path = dir + "/metrics.jsonl";
  {
    train::MetricsLog log(path, false);
    log.write({{"type", "train"}, {"step", 1}, {"loss", 2.5}});
    log.write({{"type", "eval"}, {"step", 1}, {"eval_loss", std::nan("")}});
    CHECK_THROWS_AS(log.write({{"step", 2}}), bf::Error);
    CHECK_THROWS_AS(log.write({{"type", "bogus"}}), bf::Error);
  }
  {
    train::MetricsLog log(path, true);
    log.write({{"type", "train"}, {"step", 2}, {"loss", 2.0}});
  }
  const auto records = train::read_metrics(path);
  REQUIRE(records.size() == 3);
  CHECK(records[0]["loss"] == 2.5);
  CHECK(records[1]["eval_loss"].is_null());  // JSON has no NaN
  CHECK(records[2]["step"] == 2);
  CHECK(count(read_file(path), "\n") == 3);
}

TEST_CASE("truncate_after_step drops later records and torn lines", "[train][metrics]") {
  const auto dir = test::temp_dir("metrics-truncate");
  const auto path = dir + "/metrics.jsonl";
  write_file_atomic(path,
                    "{\"type\":\"event\",\"message\":\"start\"}\n"
                    "{\"type\":\"train\",\"step\":10,\"loss\":3}\n"
                    "{\"type\":\"eval\",\"step\":20,\"eval_loss\":3}\n"
                    "{\"type\":\"train\",\"step\":20,\"loss\":2}\n"
                    "{\"type\":\"train\",\"step\":30,\"loss\":1}\n"
                    "{\"type\":\"event\",\"step\":25,\"message\":\"x\"}\n"
                    "{\"type\":\"train\",\"step\":40,\"lo");
  train::MetricsLog::truncate_after_step(path, 20);
  const auto records = train::read_metrics(path);
  REQUIRE(records.size() == 4);
  CHECK(records[0]["type"] == "event");
  CHECK(records[3]["step"] == 20);
  CHECK(read_file(path).back() == '\n');

  train::MetricsLog::truncate_after_step(dir + "/absent.jsonl", 5);  // no file: nothing to do
  CHECK_FALSE(path_exists(dir + "/absent.jsonl"));
}

TEST_CASE("report.html is one self-contained page with SVG charts", "[train][report]") {
  const auto dir = test::temp_dir("run-report");
  write_synthetic_metrics(dir);
  const json summary = {{"name", "mini <en>"},
                        {"status", "finished"},
                        {"config", {{"optimizer", "adamw"}, {"lr", 1e-4}, {"max_steps", 200}}},
                        {"best_eval", {{"step", 200}, {"eval_loss", 1.947}}}};
  train::write_run_report(dir, summary);
  const auto html = read_file(dir + "/report.html");

  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<title>bertforge run: mini &lt;en&gt;</title>") != std::string::npos);
  // Training loss (3 series), grad_norm, tokens_per_s, eval loss, mlm_accuracy,
  // perplexity, learning rate.
  CHECK(count(html, "<svg") == 7);
  CHECK(count(html, "<polyline") == 9);  // 3 loss lines + 6 single-series charts
  for (const char* text : {"Training loss", "Evaluation loss", "Learning rate", "mlm_loss", "nsp_loss", "mlm_accuracy",
                           "perplexity", "config.max_steps", "best_eval.eval_loss", "checkpoint &lt;saved&gt;"}) {
    INFO(text);
    CHECK(html.find(text) != std::string::npos);
  }
  // Nothing fetched from anywhere, nothing run.
  CHECK(html.find("http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("</html>") != std::string::npos);
}

TEST_CASE("report.html without metrics still renders the summary", "[train][report]") {
  const auto dir = test::temp_dir("run-report-empty");
  train::write_run_report(dir, {{"name", "fresh"}, {"status", "starting"}});
  const auto html = read_file(dir + "/report.html");
  CHECK(html.find("No metrics recorded yet") != std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
}

TEST_CASE("SVG charts: ticks, a flat series, a single point", "[train][report]") {
  CHECK(train::nice_ticks(0.0, 1.0, 5) == std::vector<double>{0.0, 0.2, 0.4, 0.6, 0.8, 1.0});
  CHECK(train::nice_ticks(3.0, 97.0, 5) == std::vector<double>{20.0, 40.0, 60.0, 80.0});
  const auto flat = train::render_svg_chart({"flat", "step", "v", {{"v", {1, 2, 3}, {5, 5, 5}}}});
  CHECK(flat.find("<polyline") != std::string::npos);
  const auto single = train::render_svg_chart({"one", "step", "v", {{"v", {7}, {0.5}}}});
  CHECK(single.find("<circle") != std::string::npos);
  const auto empty = train::render_svg_chart({"none", "step", "v", {{"v", {1}, {std::nan("")}}}});
  CHECK(empty.find("no data") != std::string::npos);

  train::ChartSeries many{"loss", {}, {}};
  for (int i = 0; i < 10000; ++i) {
    many.x.push_back(i);
    many.y.push_back(i % 2);
  }
  const auto small = train::downsample(many, 100);
  CHECK(small.x.size() == 100);
  CHECK(small.y[0] == Approx(0.5));
}

TEST_CASE("progress text has step, loss, lr, tokens/s and ETA", "[train][progress]") {
  const auto line = train::format_progress(120, 1000, {{"loss", 6.23149}, {"lr", 1.2e-4}, {"tokens_per_s", 5300}}, 250);
  CHECK(line == "step 120/1000 (12.0%) | loss 6.231 | lr 1.20e-04 | 5.3k tok/s | ETA 4m10s");
  CHECK(train::format_progress(5, 0, {{"tokens/s", 2.5e6}, {"grad_norm", 0.5}}, -1) ==
        "step 5 | grad_norm 0.5 | 2.50M tok/s | ETA ?");
  CHECK(train::format_duration(3725) == "1h02m");
  CHECK(train::format_duration(42) == "42s");
  CHECK(train::format_duration(-1) == "?");

  // Not a terminal: rate-limited log lines; many updates print nothing new.
  train::Progress progress(100, 0, {/*interval_s=*/3600.0, 0.25, /*tty=*/false});
  for (int step = 1; step <= 100; ++step) progress.update(step, {{"loss", 1.0}});
  progress.finish();
}

TEST_CASE("report.html draws X_random_init in X's chart, not a chart of its own", "[train][report]") {
  std::vector<json> records;
  for (int step = 100; step <= 300; step += 100) {
    records.push_back({{"type", "eval"}, {"step", step}, {"loss", 5.0}, {"probe_accuracy", 0.5 + step / 1000.0},
                       {"probe_accuracy_random_init", 0.4}, {"probe_seconds", 1.2}});
  }
  const auto html = train::render_run_report(records, {{"name", "probe"}});
  REQUIRE(count(html, "<text class=\"legend\"") >= 2);
  CHECK(count(html, ">probe_accuracy_random_init</text>") == 1);  // its legend entry, in probe_accuracy's chart
  CHECK(count(html, ">Evaluation: probe_accuracy_random_init</text>") == 0);
  CHECK(count(html, ">Evaluation: probe_seconds</text>") == 0);
  CHECK(count(html, ">Evaluation: probe_accuracy</text>") == 1);
}
