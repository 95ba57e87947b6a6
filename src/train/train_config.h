#pragma once
// The sections every training run config shares (run, training, eval,
// checkpoint, logging; optimizer and schedule live with their code). Each
// task's root config (pretrain/pretrain_config.h, finetune/finetune_config.h)
// is built from them, parsed once, and printed back resolved at the start of
// a run and saved in the run directory.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train/loss_scaler.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "util/config_reader.h"

namespace bf::train {

struct RunSection {
  std::string name = "run";
  std::string output_dir;             // the run directory (checkpoints, logs, metrics, final model)
  std::int64_t seed = 42;
  std::string device = "auto";        // cpu | cuda | auto
  std::int64_t threads = 0;           // intra-op threads, 0 = all cores
  template <class V>
  void visit(V& v) {
    v.field("name", name);
    v.required("output_dir", output_dir);
    v.field("seed", seed, non_negative<std::int64_t>());
    v.field("device", device, one_of({"cpu", "cuda", "auto"}));
    v.field("threads", threads, non_negative<std::int64_t>());
  }
};

struct TrainingSection {
  std::int64_t batch_size = 32;        // sequences per micro-batch (per process)
  std::int64_t grad_accum_steps = 1;   // micro-batches per optimizer step
  std::int64_t max_steps = 0;          // optimizer steps; 0 = until max_epochs
  double max_epochs = 0;               // 0 = until max_steps
  double max_time_minutes = 0;         // wall-clock budget; 0 = none
  // Stop this session (with a checkpoint) after this many steps, leaving the
  // schedule as it is; --resume continues. For time-sliced machines. 0 = off.
  std::int64_t session_steps = 0;
  std::string precision = "fp32";      // fp32 | bf16 | fp16 (fp16 on CUDA only)
  // Dynamic loss scaling (train/loss_scaler.h): auto = on for fp16 only;
  // dynamic = on at any precision (e.g. to check it on CPU); none = off.
  std::string loss_scaling = "auto";
  double loss_scale_init = 65536.0;
  std::int64_t loss_scale_growth_interval = 2000;
  std::int64_t max_nonfinite_in_a_row = 5;
  template <class V>
  void visit(V& v) {
    v.field("batch_size", batch_size, in_range<std::int64_t>(1, 1 << 20));
    v.field("grad_accum_steps", grad_accum_steps, in_range<std::int64_t>(1, 1 << 16));
    v.field("max_steps", max_steps, non_negative<std::int64_t>());
    v.field("max_epochs", max_epochs, non_negative<double>());
    v.field("max_time_minutes", max_time_minutes, non_negative<double>());
    v.field("session_steps", session_steps, non_negative<std::int64_t>());
    v.field("precision", precision, one_of({"fp32", "bf16", "fp16"}));
    v.field("loss_scaling", loss_scaling, one_of({"auto", "dynamic", "none"}));
    v.field("loss_scale_init", loss_scale_init, positive<double>());
    v.field("loss_scale_growth_interval", loss_scale_growth_interval, in_range<std::int64_t>(1, 1 << 30));
    v.field("max_nonfinite_in_a_row", max_nonfinite_in_a_row, in_range<std::int64_t>(1, 1000000));
    if (max_steps == 0 && max_epochs == 0) v.invalid("max_steps", "set max_steps or max_epochs (both are 0)");
  }
  LossScalerOptions loss_scaler_options() const {
    LossScalerOptions o;
    o.enabled = loss_scaling == "dynamic" || (loss_scaling == "auto" && precision == "fp16");
    o.init_scale = loss_scale_init;
    o.growth_interval = loss_scale_growth_interval;
    return o;
  }
};

struct EvalSection {
  std::int64_t every_steps = 0;   // 0 = only at the end
  std::int64_t max_batches = 50;  // of the held-out split
  std::int64_t batch_size = 0;    // 0 = training batch size
  template <class V>
  void visit(V& v) {
    v.field("every_steps", every_steps, non_negative<std::int64_t>());
    v.field("max_batches", max_batches, in_range<std::int64_t>(1, 1 << 30));
    v.field("batch_size", batch_size, non_negative<std::int64_t>());
  }
};

struct CheckpointSection {
  std::int64_t every_steps = 0;   // 0 = only at the end (and on a stop signal)
  std::int64_t every_minutes = 0; // also after this much wall time, 0 = off
  std::int64_t keep_last = 3;
  bool keep_best = true;          // also keep the best by eval loss
  // A periodic checkpoint that cannot be written (disk full, permissions):
  // "stop" ends the run with the error, "continue" logs it and trains on,
  // trying again at the next checkpoint. Either way the previous checkpoints
  // stay intact; the final checkpoint of a run must always be written.
  std::string on_write_error = "stop";
  template <class V>
  void visit(V& v) {
    v.field("every_steps", every_steps, non_negative<std::int64_t>());
    v.field("every_minutes", every_minutes, non_negative<std::int64_t>());
    v.field("keep_last", keep_last, in_range<std::int64_t>(1, 1000000));
    v.field("keep_best", keep_best);
    v.field("on_write_error", on_write_error, one_of({"stop", "continue"}));
  }
};

struct LoggingSection {
  std::int64_t every_steps = 10;        // metrics.jsonl records and log lines
  double progress_seconds = 30;         // plain progress lines when not on a terminal
  std::string level = "info";
  template <class V>
  void visit(V& v) {
    v.field("every_steps", every_steps, in_range<std::int64_t>(1, 1 << 30));
    v.field("progress_seconds", progress_seconds, positive<double>());
    v.field("level", level, one_of({"trace", "debug", "info", "warn", "error"}));
  }
};

}  // namespace bf::train
