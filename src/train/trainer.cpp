#include "train/trainer.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>

#include "io/hf_model.h"
#include "train/checkpoint.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/metrics_log.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "train/progress.h"
#include "train/rng_state.h"
#include "train/run_report.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::train {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<int> g_stop_signals{0};

void on_stop_signal(int) {
  // A second signal means "now": the checkpoint of the first is abandoned.
  if (g_stop_signals.fetch_add(1) >= 1) std::_Exit(130);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

void install_stop_signal_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}
bool stop_requested() { return g_stop_signals.load() > 0; }
void request_stop() { g_stop_signals.fetch_add(1); }

struct Trainer::Impl {
  TrainerSettings s;
  TrainingTask& task;
  torch::Device device;
  std::string run_dir;
  Optimizer optimizer;
  std::int64_t total_steps = 0;
  std::unique_ptr<LrSchedule> schedule;
  std::unique_ptr<MetricsLog> metrics;
  CheckpointWriter checkpoints;

  std::int64_t step = 0;              // optimizer steps done
  std::int64_t skipped_steps = 0;     // non-finite steps skipped, in total
  std::int64_t nonfinite_in_a_row = 0;
  std::optional<double> best_eval;
  std::map<std::string, double> last_eval;
  double train_seconds = 0;           // over all sessions of the run

  Impl(TrainerSettings settings, TrainingTask& t, torch::Device d)
      : s(std::move(settings)),
        task(t),
        device(d),
        run_dir(s.run.output_dir),
        optimizer(named_parameters(t.model()), s.optimizer),
        checkpoints((fs::path(s.run.output_dir) / "checkpoints").string(), s.checkpoint.keep_last,
                    s.checkpoint.keep_best) {
    total_steps = s.training.max_steps;
    if (s.training.max_epochs > 0) {
      const auto by_epochs = static_cast<std::int64_t>(std::ceil(s.training.max_epochs * task.steps_per_epoch()));
      total_steps = total_steps > 0 ? std::min(total_steps, by_epochs) : by_epochs;
    }
    if (total_steps <= 0) bf::fail("training: the run has no steps (max_steps and max_epochs give 0)");
    schedule = std::make_unique<LrSchedule>(s.schedule, s.optimizer.lr, total_steps);
    if (s.training.precision == "bf16" && device.is_cpu() && !cpu_has_fast_bf16())
      spdlog::warn("training.precision: bf16, but this CPU has no bf16 matrix instructions (AVX512_BF16 or AMX): "
                   "its bf16 matmuls run in generic code, often 10x slower than fp32; consider fp32 here");
  }

  nlohmann::json trainer_state() const {
    return {{"step", step},
            {"data", task.data_state()},
            {"skipped_steps", skipped_steps},
            {"nonfinite_in_a_row", nonfinite_in_a_row},
            {"best_eval", best_eval ? nlohmann::json(*best_eval) : nlohmann::json()},
            {"last_eval", last_eval},
            {"train_seconds", train_seconds},
            {"total_steps", total_steps},
            {"epochs_done", task.epochs_done()}};
  }

  std::string save_checkpoint() {
    CheckpointContents c;
    c.model = &task.model();
    c.model_config = &task.model_config();
    c.tokenizer = task.tokenizer();
    c.optimizer_tensors = optimizer.state_tensors();
    c.optimizer_state = optimizer.state_json();
    c.rng_tensors = capture_rng_state();
    c.trainer_state = trainer_state();
    c.run_config_yaml = s.run_config_yaml;
    if (last_eval.count(task.best_metric())) {
      // The writer keeps the checkpoint with the lowest value: negate "higher is better" metrics.
      const double v = last_eval.at(task.best_metric());
      c.eval_loss = task.higher_is_better() ? -v : v;
    }
    metrics->flush_sync();
    const auto dir = checkpoints.write(step, c);
    spdlog::info("checkpoint: {}", dir);
    write_report("running");
    return dir;
  }

  void write_report(const std::string& status) {
    try {
      write_run_report(run_dir, {{"name", s.run.name},
                                 {"status", status},
                                 {"step", step},
                                 {"total_steps", total_steps},
                                 {"skipped_steps", skipped_steps},
                                 {"last_eval", last_eval},
                                 {"train_seconds", train_seconds}});
    } catch (const std::exception& e) {
      spdlog::warn("report.html not written: {}", e.what());
    }
  }

  void run_eval() {
    const auto t0 = Clock::now();
    task.model().eval();
    last_eval = task.evaluate();
    task.model().train();
    nlohmann::json record = {{"type", "eval"}, {"step", step}};
    std::string line;
    for (const auto& [k, v] : last_eval) {
      record[k] = v;
      line += fmt::format(" {}={:.4f}", k, v);
    }
    record["seconds"] = seconds_since(t0);
    metrics->write(record);
    spdlog::info("eval at step {}:{}", step, line);
    if (last_eval.count(task.best_metric())) {
      const double v = last_eval.at(task.best_metric());
      if (!best_eval || (task.higher_is_better() ? v > *best_eval : v < *best_eval)) best_eval = v;
    }
  }

  // One optimizer step over grad_accum_steps micro-batches. Returns false when
  // the step was skipped for a non-finite loss or gradient.
  bool train_step(std::map<std::string, double>& step_metrics) {
    const auto k = s.training.grad_accum_steps;
    task.begin_step(k);
    std::map<std::string, double> sums;
    double loss_value = 0;
    for (std::int64_t i = 0; i < k; ++i) {
      MicroStep micro;
      {
        AutocastGuard autocast(s.training.precision, device);
        micro = task.forward(i);
      }
      micro.loss.backward();
      loss_value += micro.loss.item<double>();
      for (const auto& [name, v] : micro.sums) sums[name] += v;
    }
    std::vector<torch::Tensor> params;
    for (auto& p : task.model().parameters())
      if (p.grad().defined()) params.push_back(p);
    const double max_norm = s.optimizer.clip_grad_norm > 0 ? s.optimizer.clip_grad_norm : 0.0;
    const double norm = clip_grad_norm(params, max_norm);
    step_metrics = task.step_metrics(sums);
    step_metrics["loss"] = loss_value;
    step_metrics["grad_norm"] = norm;
    if (!std::isfinite(loss_value) || !std::isfinite(norm)) {
      optimizer.zero_grad();
      return false;
    }
    const double lr = schedule->lr_at(step);
    optimizer.step(lr);
    optimizer.zero_grad();
    step_metrics["lr"] = lr;
    return true;
  }
};

Trainer::Trainer(TrainerSettings settings, TrainingTask& task, torch::Device device)
    : impl_(std::make_shared<Impl>(std::move(settings), task, device)) {}

void Trainer::resume_from(const std::string& checkpoint_dir) {
  auto& m = *impl_;
  const auto ckpt = read_checkpoint(checkpoint_dir);
  const auto report = io::load_weights(m.task.model(), io::find_weights_file(checkpoint_dir));
  if (!report.missing.empty()) bf::fail(checkpoint_dir + ": model weights incomplete: " + report.summary());
  m.optimizer.load_state(ckpt.optimizer_tensors, ckpt.optimizer_state);
  restore_rng_state(ckpt.rng_tensors);
  const auto& st = ckpt.trainer_state;
  m.task.restore_data_state(st.at("data"));
  m.step = st.at("step").get<std::int64_t>();
  m.skipped_steps = st.value("skipped_steps", std::int64_t{0});
  m.nonfinite_in_a_row = st.value("nonfinite_in_a_row", std::int64_t{0});
  m.train_seconds = st.value("train_seconds", 0.0);
  if (st.contains("best_eval") && st["best_eval"].is_number()) m.best_eval = st["best_eval"].get<double>();
  if (st.contains("last_eval") && st["last_eval"].is_object())
    m.last_eval = st["last_eval"].get<std::map<std::string, double>>();
  // Records written after this checkpoint by the run that stopped belong to
  // steps that will be trained again.
  MetricsLog::truncate_after_step((fs::path(m.run_dir) / "metrics.jsonl").string(), m.step);
  spdlog::info("resumed from {} at step {}", checkpoint_dir, m.step);
}

TrainResult Trainer::train() {
  auto& m = *impl_;
  fs::create_directories(m.run_dir);
  m.metrics = std::make_unique<MetricsLog>((fs::path(m.run_dir) / "metrics.jsonl").string(), /*append=*/true);
  install_stop_signal_handlers();
  m.task.model().train();
  m.optimizer.zero_grad();
  TrainResult result;
  ProgressOptions progress_options;
  progress_options.interval_s = m.s.logging.progress_seconds;
  Progress progress(m.total_steps, m.step, progress_options);
  const auto session_start = Clock::now();
  const std::int64_t session_first_step = m.step;
  auto last_checkpoint_time = Clock::now();
  std::string last_checkpoint_dir;
  std::int64_t last_checkpoint_step = -1;
  double window_tokens = 0, window_seconds = 0;

  while (true) {
    if (m.step >= m.total_steps) {
      result.stopped_by = m.s.training.max_steps > 0 && m.step >= m.s.training.max_steps ? "max_steps" : "max_epochs";
      break;
    }
    if (m.s.training.session_steps > 0 && m.step - session_first_step >= m.s.training.session_steps) {
      result.stopped_by = "session_steps";
      break;
    }
    if (stop_requested()) {
      result.stopped_by = "signal";
      break;
    }
    if (m.task.wants_stop()) {
      result.stopped_by = "early_stopping";
      break;
    }
    if (m.s.training.max_time_minutes > 0 && seconds_since(session_start) >= m.s.training.max_time_minutes * 60) {
      result.stopped_by = "max_time";
      break;
    }
    const auto t0 = Clock::now();
    std::map<std::string, double> metrics;
    const bool ok = m.train_step(metrics);
    const double dt = seconds_since(t0);
    m.train_seconds += dt;
    if (!ok) {
      ++m.skipped_steps;
      ++m.nonfinite_in_a_row;
      spdlog::warn("step {}: non-finite loss or gradient (loss {}, grad norm {}); step skipped ({} in a row)", m.step + 1,
                   metrics["loss"], metrics["grad_norm"], m.nonfinite_in_a_row);
      m.metrics->write({{"type", "event"}, {"event", "nonfinite_step_skipped"}, {"step", m.step}});
      if (m.nonfinite_in_a_row >= m.s.training.max_nonfinite_in_a_row) {
        const auto dir = m.save_checkpoint();
        bf::fail("training stopped: " + std::to_string(m.nonfinite_in_a_row) +
                 " non-finite steps in a row (training.max_nonfinite_in_a_row); the last good state is in " + dir +
                 ". Lower the learning rate or check the data, then resume.");
      }
      continue;
    }
    m.nonfinite_in_a_row = 0;
    ++m.step;
    window_tokens += static_cast<double>(m.task.tokens_in_step());
    window_seconds += dt;
    const double tokens_per_s = window_seconds > 0 ? window_tokens / window_seconds : 0;
    progress.update(m.step, {{"loss", metrics["loss"]}, {"lr", metrics["lr"]}, {"tokens/s", tokens_per_s}});
    if (m.step % m.s.logging.every_steps == 0 || m.step == m.total_steps) {
      nlohmann::json record = {{"type", "train"}, {"step", m.step}, {"epoch", m.task.epochs_done()}};
      for (const auto& [k, v] : metrics) record[k] = v;
      record["tokens_per_s"] = tokens_per_s;
      record["skipped_steps"] = m.skipped_steps;
      m.metrics->write(record);
      window_tokens = window_seconds = 0;
    }
    if (m.s.eval.every_steps > 0 && m.step % m.s.eval.every_steps == 0) m.run_eval();
    const bool by_steps = m.s.checkpoint.every_steps > 0 && m.step % m.s.checkpoint.every_steps == 0;
    const bool by_time =
        m.s.checkpoint.every_minutes > 0 && seconds_since(last_checkpoint_time) >= m.s.checkpoint.every_minutes * 60.0;
    if (by_steps || by_time) {
      last_checkpoint_dir = m.save_checkpoint();
      last_checkpoint_step = m.step;
      last_checkpoint_time = Clock::now();
    }
  }
  progress.finish();
  const bool scheduled_end = result.stopped_by == "max_steps" || result.stopped_by == "max_epochs";
  const bool finished = scheduled_end || result.stopped_by == "early_stopping";
  if (scheduled_end && (m.s.eval.every_steps == 0 || m.step % m.s.eval.every_steps != 0)) m.run_eval();
  if (last_checkpoint_step != m.step) last_checkpoint_dir = m.save_checkpoint();
  result.final_checkpoint = last_checkpoint_dir;
  result.steps = m.step;
  result.last_eval = m.last_eval;
  if (finished) {
    // The run's product: an HF model directory, written whole or not at all.
    const auto model_dir = (fs::path(m.run_dir) / "model").string();
    const auto tmp = model_dir + ".tmp";
    fs::remove_all(tmp);
    io::save_model_dir(tmp, m.task.model(), m.task.model_config(), m.task.tokenizer());
    fs::remove_all(model_dir);
    fs::rename(tmp, model_dir);
    result.model_dir = model_dir;
  }
  m.metrics->write({{"type", "event"}, {"event", "stopped"}, {"reason", result.stopped_by}, {"step", m.step}});
  m.metrics->flush_sync();
  m.write_report(finished ? "finished" : "stopped (" + result.stopped_by + ")");
  spdlog::info("stopped by {} at step {}; checkpoint {}", result.stopped_by, m.step, result.final_checkpoint);
  return result;
}

}  // namespace bf::train
