#include "train/trainer.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>

#include "dist/gradient_reducer.h"
#include "io/hf_model.h"
#include "model/word_embedding_gradient.h"
#include "train/best_tracker.h"
#include "train/checkpoint.h"
#include "train/grad_clip.h"
#include "train/loss_scaler.h"
#include "train/lr_schedule.h"
#include "train/metrics_log.h"
#include "train/optimizer.h"
#include "model/precision.h"
#include "train/progress.h"
#include "train/rng_state.h"
#include "train/run_report.h"
#include "util/atomic_dir.h"
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

// A copy of every parameter and buffer: the best evaluation's weights, kept
// for the final evaluation (one model's worth of memory, not a file read).
std::vector<std::pair<std::string, torch::Tensor>> weights_on_cpu(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value().detach().to(torch::kCPU, true).clone());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value().detach().to(torch::kCPU, true).clone());
  return out;
}

}  // namespace

void install_stop_signal_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}
bool stop_requested() { return g_stop_signals.load() > 0; }

struct Trainer::Impl {
  TrainerSettings s;
  TrainingTask& task;
  torch::Device device;
  dist::Collective& comm;
  std::string run_dir;
  Optimizer optimizer;
  std::int64_t total_steps = 0;
  std::unique_ptr<LrSchedule> schedule;
  std::unique_ptr<MetricsLog> metrics;
  std::unique_ptr<MetricsLog> evals;  // evals.jsonl: the tasks' full evaluation reports
  CheckpointWriter checkpoints;
  LossScaler scaler;
  BestTracker best;
  std::int64_t eval_every = 0;        // steps between evaluations, 0 = only at the end

  bool resumed = false;               // resume_from was called
  std::int64_t step = 0;              // optimizer steps done
  std::int64_t skipped_steps = 0;     // non-finite steps skipped, in total
  std::int64_t nonfinite_in_a_row = 0;
  std::map<std::string, double> last_eval;
  std::vector<std::pair<std::string, torch::Tensor>> best_weights;  // main rank, with save_best_model
  double train_seconds = 0;           // over all sessions of the run
  double allreduce_seconds = 0;       // in the current logging window: communication not hidden
  double rank_wait_seconds = 0;       // ... and all of this rank's wait (slower ranks included)
  std::unique_ptr<dist::GradientReducer> reducer;  // data parallel only

  Impl(TrainerSettings settings, TrainingTask& t, torch::Device d, dist::Collective* c)
      : s(std::move(settings)),
        task(t),
        device(d),
        comm(c ? *c : dist::single_process()),
        run_dir(s.run.output_dir),
        optimizer(named_parameters(t.model()), s.optimizer),
        checkpoints((fs::path(s.run.output_dir) / "checkpoints").string(), s.checkpoint.keep_last),
        scaler(s.training.loss_scaler_options()),
        best(t.best_metric(), t.higher_is_better(), s.patience),
        eval_every(t.eval_interval()) {
    total_steps = s.training.max_steps;
    if (s.training.max_epochs > 0) {
      const auto by_epochs = static_cast<std::int64_t>(std::ceil(s.training.max_epochs * task.steps_per_epoch()));
      total_steps = total_steps > 0 ? std::min(total_steps, by_epochs) : by_epochs;
    }
    if (total_steps <= 0) bf::fail("training: the run has no steps (max_steps and max_epochs give 0)");
    schedule = std::make_unique<LrSchedule>(s.schedule, s.optimizer.lr, total_steps);
    if (s.training.precision == "bf16" && device.is_cpu() && !model::cpu_has_fast_bf16())
      spdlog::warn("training.precision: bf16, but this CPU has no bf16 matrix instructions (AVX512_BF16 or AMX): "
                   "its bf16 matmuls run in generic code, often 10x slower than fp32; consider fp32 here");
  }

  nlohmann::json trainer_state() const {
    return {{"step", step},
            {"data", task.data_state()},
            {"skipped_steps", skipped_steps},
            {"nonfinite_in_a_row", nonfinite_in_a_row},
            {"best", best.state()},
            {"last_eval", last_eval},
            {"train_seconds", train_seconds},
            {"total_steps", total_steps},
            {"epochs_done", task.epochs_done()},
            {"world_size", comm.world_size()},
            {"loss_scaler", scaler.state()}};
  }

  // Only rank 0 keeps metrics.jsonl; the other ranks' records are the same numbers.
  void log_record(const nlohmann::json& record) {
    if (metrics) metrics->write(record);
  }

  // Every rank's generator states: rank 0's under their own names (so a
  // one-process checkpoint is unchanged), rank r's under "rank<r>/".
  NamedTensors gather_rng_state() {
    auto mine = capture_rng_state();
    if (comm.world_size() == 1) return mine;
    NamedTensors all;
    for (auto& [name, state] : mine) {
      auto gathered = comm.all_gather(state);
      all.emplace_back(name, state);
      for (int r = 1; r < comm.world_size(); ++r)
        all.emplace_back("rank" + std::to_string(r) + "/" + name, gathered[r].clone());
    }
    return all;
  }

  // Collective: every rank calls it at the same step; rank 0 writes, and the
  // others wait until the checkpoint is complete. Returns the directory (on
  // rank 0; "" elsewhere).
  std::string save_checkpoint() {
    best.note_checkpoint(step, checkpoint_name(step));
    auto rng = gather_rng_state();
    if (!comm.is_main()) {
      comm.barrier();
      return "";
    }
    CheckpointContents c;
    c.model = &task.model();
    c.model_config = &task.model_config();
    c.tokenizer = task.tokenizer();
    c.optimizer_tensors = optimizer.state_tensors();
    c.optimizer_state = optimizer.state_json();
    c.rng_tensors = std::move(rng);
    c.trainer_state = trainer_state();
    c.run_config_yaml = s.run_config_yaml;
    if (s.checkpoint.keep_best) c.keep = best.best_checkpoint();
    std::string dir;
    try {
      if (metrics) metrics->flush_sync();
      if (evals) evals->flush_sync();
      dir = checkpoints.write(step, c);
    } catch (...) {
      comm.barrier();  // the other ranks wait for this checkpoint either way
      throw;
    }
    spdlog::info("checkpoint: {}", dir);
    write_report("running");
    comm.barrier();
    return dir;
  }

  // A periodic checkpoint under checkpoint.on_write_error: its directory, or
  // "" when it failed and the run goes on ("continue"); "stop" rethrows.
  std::string periodic_checkpoint() {
    try {
      return save_checkpoint();
    } catch (const bf::Error& e) {
      try {
        log_record({{"type", "event"}, {"event", "checkpoint_failed"}, {"step", step}, {"error", e.what()}});
        if (metrics) metrics->flush_sync();
      } catch (const std::exception& log_error) {
        spdlog::warn("metrics.jsonl: {}", log_error.what());
      }
      if (s.checkpoint.on_write_error != "continue") {
        write_report("stopped (checkpoint write failed)");
        bf::fail(std::string(e.what()) + "\nthe run stopped at step " + std::to_string(step) +
                 " (checkpoint.on_write_error: stop); free space or fix the output directory, then --resume");
      }
      spdlog::error("{}; training continues (checkpoint.on_write_error: continue) and tries again at the next "
                    "checkpoint",
                    e.what());
      return "";  // (save_checkpoint has already released the other ranks)
    }
  }

  void write_report(const std::string& status) {
    if (!comm.is_main()) return;
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
    auto evaluation = task.evaluate();
    task.model().train();
    last_eval = evaluation.metrics;
    nlohmann::json record = {{"type", "eval"}, {"step", step}};
    std::string line;
    for (const auto& [k, v] : last_eval) {
      record[k] = v;
      line += fmt::format(" {}={:.4f}", k, v);
    }
    record["seconds"] = seconds_since(t0);
    log_record(record);
    spdlog::info("eval at step {}:{}", step, line);
    if (!evaluation.report.is_null() && evals) {
      evaluation.report["type"] = "eval";
      evaluation.report["step"] = step;
      evals->write(evaluation.report);
    }
    if (best.update(last_eval, step)) {
      if (s.save_best_model) save_best_model();
    } else if (best.out_of_patience()) {
      spdlog::info("early stopping: {} evaluations without a better {} (best {:.4f})", best.evals_since_best(),
                   best.metric(), *best.best());
    }
  }

  // Every rank's weights are the same; rank 0 writes them.
  void save_best_model() {
    if (!comm.is_main()) return;
    const auto dir = (fs::path(run_dir) / "best_model").string();
    export_model(dir);
    best_weights = weights_on_cpu(task.model());
    spdlog::info("new best {} = {:.4f}: saved {}", best.metric(), *best.best(), dir);
  }

  // An HF model directory of the current weights, written whole or not at all.
  void export_model(const std::string& dir) {
    bf::write_dir_atomic(dir, [&](const std::string& tmp) {
      io::save_model_dir(tmp, task.model(), task.model_config(), task.tokenizer());
    });
  }

  // The data-parallel gradient averaging, started by hooks during backward;
  // built before the first step's forward (the task's parameters are final
  // by then, and the word embedding's hooks see every forward of the step).
  dist::GradientReducer& gradient_reducer() {
    if (!reducer) {
      std::vector<torch::Tensor> trainable;
      for (const auto& p : task.model().parameters())
        if (p.requires_grad()) trainable.push_back(p);
      auto embedding = model::find_word_embedding(task.model());
      if (embedding.weight.defined() && !embedding.weight.requires_grad()) embedding = {};
      reducer = std::make_unique<dist::GradientReducer>(
          comm, trainable, comm.gradient_bucket_bytes(),
          dist::EmbeddingToSplit{embedding.weight, embedding.tied_decoder});
      if (embedding.weight.defined()) {
        auto* r = reducer.get();
        model::set_word_embedding_gradient_hooks(
            task.model(), {[r](const torch::Tensor& ids) { r->rows_looked_up(ids); },
                           [r](const torch::Tensor& grad) { r->decoder_gradient(grad); }});
      }
    }
    return *reducer;
  }

  ~Impl() {
    if (reducer) model::set_word_embedding_gradient_hooks(task.model(), {});
  }

  // After backward on every rank: the mean gradient (each rank's loss is its
  // share of the global step's mean times world_size, so the mean is the
  // whole step's gradient), the global loss, and the summed statistics. All
  // ranks then hold the same numbers and take the same decisions. A rank
  // waits here for the communication backward did not hide and, when it
  // finished backward first, for the slower ranks; the slowest rank waits
  // for the communication alone, so the shortest wait of all is that part.
  void combine_ranks(double& loss_value, std::map<std::string, double>& sums) {
    const auto t0 = Clock::now();
    gradient_reducer().finish();
    const double gradient_wait = seconds_since(t0);
    std::vector<double> values{loss_value};
    for (const auto& kv : sums) values.push_back(kv.second);
    const auto waits = values.size();  // each rank's gradient wait in its own slot: the sum holds them all
    values.resize(waits + static_cast<std::size_t>(comm.world_size()), 0.0);
    values[waits + static_cast<std::size_t>(comm.rank())] = gradient_wait;
    comm.sum(values);
    loss_value = values[0] / comm.world_size();
    std::size_t i = 1;
    for (auto& kv : sums) kv.second = values[i++];
    allreduce_seconds += *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(waits), values.end());
    rank_wait_seconds += seconds_since(t0);
  }

  enum class StepOutcome { Taken, NonFinite, ScaleOverflow };

  // One optimizer step over grad_accum_steps micro-batches, or a skipped one:
  // for a non-finite loss or gradient, or an fp16 gradient overflow under
  // loss scaling (expected now and then: the scaler then lowers the scale).
  StepOutcome train_step(std::map<std::string, double>& step_metrics) {
    const auto k = s.training.grad_accum_steps;
    task.begin_step(k);
    std::map<std::string, double> sums;
    double loss_value = 0;
    if (comm.world_size() > 1) gradient_reducer();
    for (std::int64_t i = 0; i < k; ++i) {
      MicroStep micro;
      {
        model::AutocastGuard autocast(s.training.precision, device);
        micro = task.forward(i);
      }
      if (comm.world_size() > 1 && i == k - 1) gradient_reducer().arm();
      scaler.scale_loss(micro.loss).backward();
      loss_value += micro.loss.item<double>();
      for (const auto& [name, v] : micro.sums) sums[name] += v;
    }
    if (comm.world_size() > 1) combine_ranks(loss_value, sums);
    std::vector<torch::Tensor> params;
    for (auto& p : task.model().parameters())
      if (p.grad().defined()) params.push_back(p);
    step_metrics = task.step_metrics(sums);
    step_metrics["loss"] = loss_value;
    if (scaler.enabled()) {
      // Gradients are the same on every rank by now, so all ranks agree on an overflow.
      std::vector<torch::Tensor> grads;
      for (const auto& p : params) grads.push_back(p.grad());
      const bool overflow = scaler.unscale_and_check(grads);
      step_metrics["loss_scale"] = scaler.scale();
      scaler.update(overflow);
      if (overflow) {
        optimizer.zero_grad();
        return StepOutcome::ScaleOverflow;
      }
    }
    const double max_norm = s.optimizer.clip_grad_norm > 0 ? s.optimizer.clip_grad_norm : 0.0;
    const auto clip = clip_factor(params, max_norm);
    step_metrics["grad_norm"] = clip.norm;
    if (!std::isfinite(loss_value) || !std::isfinite(clip.norm)) {
      optimizer.zero_grad();
      return StepOutcome::NonFinite;
    }
    const double lr = schedule->lr_at(step);
    optimizer.step(lr, clip.scale);  // clipping applied as the optimizer reads each gradient
    optimizer.zero_grad();
    step_metrics["lr"] = lr;
    return StepOutcome::Taken;
  }
};

Trainer::Trainer(TrainerSettings settings, TrainingTask& task, torch::Device device, dist::Collective* comm)
    : impl_(std::make_shared<Impl>(std::move(settings), task, device, comm)) {}

namespace {

// This rank's generator states from a checkpoint's (see gather_rng_state).
std::map<std::string, torch::Tensor> rng_of_rank(const std::map<std::string, torch::Tensor>& all, int rank) {
  if (rank == 0) {
    std::map<std::string, torch::Tensor> own;
    for (const auto& [name, t] : all)
      if (name.rfind("rank", 0) != 0) own.emplace(name, t);
    return own;
  }
  const auto prefix = "rank" + std::to_string(rank) + "/";
  std::map<std::string, torch::Tensor> own;
  for (const auto& [name, t] : all)
    if (name.rfind(prefix, 0) == 0) own.emplace(name.substr(prefix.size()), t);
  return own;
}

}  // namespace

void Trainer::resume_from(const std::string& checkpoint_dir, bool allow_config_change) {
  resume_from(read_checkpoint(checkpoint_dir), allow_config_change);
}

void Trainer::resume_from(const LoadedCheckpoint& ckpt, bool allow_config_change) {
  auto& m = *impl_;
  const auto& checkpoint_dir = ckpt.dir;
  const auto saved_world = ckpt.trainer_state.value("world_size", 1);
  const auto world = m.comm.world_size();
  if (saved_world != world) {
    if (!allow_config_change)
      bf::fail("refusing to resume from " + checkpoint_dir + ": it was written by " + std::to_string(saved_world) +
               " process(es), this run has " + std::to_string(world) +
               " (pass --allow-config-change to resume anyway: the global batch and data order then differ "
               "from an uninterrupted run)");
    spdlog::warn("resume: world size {} -> {} (allowed): the global batch is now {}x the per-process batch, and "
                 "from here on the data order differs from an uninterrupted run",
                 saved_world, world, world);
  }
  // Every rank must have found the same checkpoint (a node with another copy of the run would diverge).
  std::vector<double> agree{static_cast<double>(ckpt.trainer_state.at("step").get<std::int64_t>())};
  const double mine = agree[0];
  m.comm.sum(agree);
  if (agree[0] != mine * world)
    bf::fail("resume: the ranks found different checkpoints (this rank: " + checkpoint_dir +
             "); every rank must see the same run directory");
  m.resumed = true;
  ckpt.load_weights_into(m.task.model());
  m.optimizer.load_state(ckpt.optimizer_tensors, ckpt.optimizer_state);
  auto rng = rng_of_rank(ckpt.rng_tensors, m.comm.rank());
  if (rng.empty()) {
    // A rank the checkpoint did not have (allowed world size change): its own stream.
    dist::seed_rank_generators(m.s.run.seed, m.comm.rank());
  } else {
    restore_rng_state(rng);
  }
  const auto& st = ckpt.trainer_state;
  m.task.restore_data_state(st.at("data"));
  m.step = st.at("step").get<std::int64_t>();
  m.skipped_steps = st.value("skipped_steps", std::int64_t{0});
  m.nonfinite_in_a_row = st.value("nonfinite_in_a_row", std::int64_t{0});
  if (st.contains("loss_scaler")) m.scaler.load_state(st["loss_scaler"]);
  m.train_seconds = st.value("train_seconds", 0.0);
  m.best.restore(st);
  if (st.contains("last_eval") && st["last_eval"].is_object())
    m.last_eval = st["last_eval"].get<std::map<std::string, double>>();
  // Records written after this checkpoint by the run that stopped belong to
  // steps that will be trained again.
  if (m.comm.is_main()) {
    for (const char* log : {"metrics.jsonl", "evals.jsonl"})
      MetricsLog::truncate_after_step((fs::path(m.run_dir) / log).string(), m.step);
  }
  spdlog::info("resumed from {} at step {}", checkpoint_dir, m.step);
}

TrainResult Trainer::train() {
  auto& m = *impl_;
  if (m.comm.is_main()) {
    fs::create_directories(m.run_dir);
    bf::remove_stale_temp_files(m.run_dir);  // of a run killed mid-write
    // A fresh run starts a new log: the records of an attempt that died before
    // its first checkpoint are of steps that will be trained again.
    m.metrics = std::make_unique<MetricsLog>((fs::path(m.run_dir) / "metrics.jsonl").string(), /*append=*/m.resumed);
    m.evals = std::make_unique<MetricsLog>((fs::path(m.run_dir) / "evals.jsonl").string(), /*append=*/m.resumed);
  }
  // Every rank starts from rank 0's weights (a resumed run has them already; cheap either way).
  dist::broadcast_module(m.comm, m.task.model());
  install_stop_signal_handlers();
  m.task.model().train();
  m.optimizer.zero_grad();
  TrainResult result;
  ProgressOptions progress_options;
  progress_options.interval_s = m.s.logging.progress_seconds;
  progress_options.enabled = m.comm.is_main();
  Progress progress(m.total_steps, m.step, progress_options);
  const auto session_start = Clock::now();
  const std::int64_t session_first_step = m.step;
  auto last_checkpoint_time = Clock::now();
  std::string last_checkpoint_dir;
  std::int64_t last_checkpoint_step = -1;
  double window_tokens = 0, window_seconds = 0;

  while (true) {
    if (m.step >= m.total_steps) {
      result.stopped_by = m.s.training.max_steps > 0 && m.step >= m.s.training.max_steps ? StopReason::MaxSteps
                                                                                          : StopReason::MaxEpochs;
      break;
    }
    if (m.s.training.session_steps > 0 && m.step - session_first_step >= m.s.training.session_steps) {
      result.stopped_by = StopReason::SessionSteps;
      break;
    }
    // A signal reaches one rank, and clocks differ: the ranks agree on
    // stopping (and on time-based checkpoints) before each step.
    std::vector<double> flags{
        stop_requested() ? 1.0 : 0.0,
        m.s.training.max_time_minutes > 0 && seconds_since(session_start) >= m.s.training.max_time_minutes * 60 ? 1.0
                                                                                                              : 0.0,
        m.s.checkpoint.every_minutes > 0 &&
                seconds_since(last_checkpoint_time) >= m.s.checkpoint.every_minutes * 60.0
            ? 1.0
            : 0.0};
    if (m.comm.world_size() > 1) m.comm.sum(flags);
    if (flags[0] > 0) {
      result.stopped_by = StopReason::Signal;
      break;
    }
    if (m.best.out_of_patience()) {
      result.stopped_by = StopReason::EarlyStopping;
      break;
    }
    if (flags[1] > 0) {
      result.stopped_by = StopReason::MaxTime;
      break;
    }
    const bool checkpoint_by_time = flags[2] > 0;
    const auto t0 = Clock::now();
    std::map<std::string, double> metrics;
    const auto outcome = m.train_step(metrics);
    const double dt = seconds_since(t0);
    m.train_seconds += dt;
    if (outcome == Impl::StepOutcome::ScaleOverflow) {
      ++m.skipped_steps;
      spdlog::info("step {}: fp16 gradients overflowed at loss scale {}; step skipped, scale now {}", m.step + 1,
                   metrics["loss_scale"], m.scaler.scale());
      m.log_record({{"type", "event"}, {"event", "loss_scale_overflow"}, {"step", m.step},
                    {"loss_scale", m.scaler.scale()}});
      continue;
    }
    if (outcome == Impl::StepOutcome::NonFinite) {
      ++m.skipped_steps;
      ++m.nonfinite_in_a_row;
      spdlog::warn("step {}: non-finite loss or gradient (loss {}, grad norm {}); step skipped ({} in a row)", m.step + 1,
                   metrics["loss"], metrics["grad_norm"], m.nonfinite_in_a_row);
      m.log_record({{"type", "event"}, {"event", "nonfinite_step_skipped"}, {"step", m.step}});
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
    window_tokens += static_cast<double>(m.task.tokens_in_step()) * m.comm.world_size();
    window_seconds += dt;
    const double tokens_per_s = window_seconds > 0 ? window_tokens / window_seconds : 0;
    progress.update(m.step, {{"loss", metrics["loss"]}, {"lr", metrics["lr"]}, {"tokens/s", tokens_per_s}});
    if (m.step % m.s.logging.every_steps == 0 || m.step == m.total_steps) {
      nlohmann::json record = {{"type", "train"}, {"step", m.step}, {"epoch", m.task.epochs_done()}};
      for (const auto& [k, v] : metrics) record[k] = v;
      record["tokens_per_s"] = tokens_per_s;
      record["skipped_steps"] = m.skipped_steps;
      if (m.comm.world_size() > 1) {
        record["world_size"] = m.comm.world_size();
        record["allreduce_share"] = window_seconds > 0 ? m.allreduce_seconds / window_seconds : 0.0;
        record["rank_wait_share"] = window_seconds > 0 ? m.rank_wait_seconds / window_seconds : 0.0;
      }
      m.log_record(record);
      window_tokens = window_seconds = 0;
      m.allreduce_seconds = m.rank_wait_seconds = 0;
    }
    if (m.eval_every > 0 && m.step % m.eval_every == 0) m.run_eval();
    const bool by_steps = m.s.checkpoint.every_steps > 0 && m.step % m.s.checkpoint.every_steps == 0;
    if (by_steps || checkpoint_by_time) {
      const auto dir = m.periodic_checkpoint();
      // Only rank 0 knows whether the write failed (on_write_error: continue);
      // every rank must agree, or they would disagree on the final checkpoint.
      std::vector<double> failed{m.comm.is_main() && dir.empty() ? 1.0 : 0.0};
      if (m.comm.world_size() > 1) m.comm.sum(failed);
      if (failed[0] == 0) {
        last_checkpoint_dir = dir;
        last_checkpoint_step = m.step;
      }
      last_checkpoint_time = Clock::now();
    }
  }
  progress.finish();
  const bool scheduled_end = reached_schedule_end(result.stopped_by);
  const bool run_finished = finished(result.stopped_by);
  if (scheduled_end && (m.eval_every == 0 || m.step % m.eval_every != 0)) m.run_eval();
  if (last_checkpoint_step != m.step) last_checkpoint_dir = m.save_checkpoint();
  result.final_checkpoint = last_checkpoint_dir;
  result.steps = m.step;
  result.last_eval = m.last_eval;
  if (run_finished && m.comm.is_main()) {
    result.model_dir = (fs::path(m.run_dir) / "model").string();
    m.export_model(result.model_dir);
  }
  if (m.s.save_best_model && m.best.best() && fs::exists(fs::path(m.run_dir) / "best_model" / "config.json"))
    result.best_model_dir = (fs::path(m.run_dir) / "best_model").string();
  result.best_weights = std::move(m.best_weights);
  const std::string reason = to_string(result.stopped_by);
  m.log_record({{"type", "event"}, {"event", "stopped"}, {"reason", reason}, {"step", m.step}});
  if (m.metrics) m.metrics->flush_sync();
  if (m.evals) m.evals->flush_sync();
  m.write_report(run_finished ? "finished" : "stopped (" + reason + ")");
  spdlog::info("stopped by {} at step {}; checkpoint {}", reason, m.step, result.final_checkpoint);
  return result;
}

}  // namespace bf::train
