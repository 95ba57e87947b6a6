// bertforge bench train | infer | gemm: flags; the benchmarks are src/bench.
#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>

#include <cstdio>
#include <memory>
#include <string>

#include "bench/infer_bench.h"
#include "bench/measure.h"
#include "bench/task_infer_bench.h"
#include "bench/train_bench.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/precision.h"

namespace bf::cli {
namespace {

void add_train_bench(CLI::App& parent) {
  auto o = std::make_shared<bench::TrainBenchOptions>();
  auto common = std::make_shared<CommonOptions>();
  auto* cmd = parent.add_subcommand(
      "train", "Full pretraining steps (MLM + NSP forward, backward, AdamW) on synthetic batches");
  cmd->add_option("--preset", o->preset, "Model preset (tiny, mini, small, medium, base, large)");
  cmd->add_option("--seq", o->seq, "Sequence length")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->batch, "Sequences per step")->check(CLI::PositiveNumber);
  cmd->add_option("--precision", o->precision, "fp32 | bf16 (autocast; fp16 on CUDA)");
  cmd->add_option("--steps", o->steps, "Timed steps (the median counts)")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o->warmup, "Untimed steps first")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", o->device, "cpu | cuda | auto");
  cmd->add_flag("--all-position-logits", o->all_positions,
                "Run the MLM head at every position, as Hugging Face does (for comparison)");
  cmd->add_flag("--unfused", o->unfused,
                "LibTorch's separate ops instead of the fused CPU kernels (residual + LayerNorm, softmax, MLM loss, attention read in place)");
  cmd->add_option("--profile", o->profile, "Write an autograd profile of the timed steps (chrome trace JSON)");
  cmd->add_option("--json", o->json, "Also write the figures as JSON to this file");
  add_common_options(*cmd, *common);
  cmd->callback([o, common] {
    apply_common_options(*common);
    bench::run_train_bench(*o);
  });
}

void add_infer_bench(CLI::App& parent) {
  auto o = std::make_shared<bench::InferBenchOptions>();
  auto common = std::make_shared<CommonOptions>();
  auto* cmd = parent.add_subcommand(
      "infer", "Classifier passes over short texts: dynamic padding against padding to a fixed length");
  cmd->add_option("--preset", o->preset, "Model preset");
  cmd->add_option("--task", o->task, "classification | token_classification | question_answering")
      ->check(CLI::IsMember({"classification", "token_classification", "question_answering"}));
  cmd->add_option("--input", o->input,
                  "Text file, one text per line (default: synthetic SST-2-like lengths); CoNLL or SQuAD JSON "
                  "with --task");
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or vocab.txt for --input");
  cmd->add_option("--batch", o->batch, "Texts per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--pad-to", o->pad_to, "The fixed length to compare with (the window with --task)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-texts", o->max_texts, "Texts per pass")->check(CLI::PositiveNumber);
  cmd->add_option("--precision", o->precision, "fp32 | bf16 (autocast) | int8 (dynamic, the encoder's linears; predict only)");
  cmd->add_option("--device", o->device, "cpu | cuda | auto");
  cmd->add_flag("--train", o->train, "Fine-tuning steps (forward, backward, AdamW) instead of predict");
  cmd->add_option("--repeat", o->repeat, "Timed passes (the median counts)")->check(CLI::PositiveNumber);
  cmd->add_option("--json", o->json, "Also write the figures as JSON to this file");
  add_common_options(*cmd, *common);
  cmd->callback([o, common] {
    apply_common_options(*common);
    if (o->task == "classification") {
      bench::run_infer_bench(*o);
    } else {
      bench::run_task_infer_bench(*o);
    }
  });
}

void add_gemm_bench(CLI::App& parent) {
  auto common = std::make_shared<CommonOptions>();
  auto device = std::make_shared<std::string>("auto");
  auto* cmd = parent.add_subcommand("gemm", "The 2048 x 2048 matmul peak, fp32 and bf16");
  cmd->add_option("--device", *device, "cpu | cuda | auto");
  add_common_options(*cmd, *common);
  cmd->callback([common, device] {
    apply_common_options(*common);
    const auto d = model::resolve_device(*device);
    const auto peaks = bench::measure_gemm_peaks(d);
    std::printf("GEMM 2048^2 on %s, %d threads: fp32 %.1f GFLOP/s, bf16 %s\n", d.str().c_str(),
                at::get_num_threads(), peaks.fp32, bench::gflops_or_na(peaks.bf16).c_str());
  });
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Speed benchmarks: training steps, inference, GEMM peak");
  bench->require_subcommand(1);
  add_train_bench(*bench);
  add_infer_bench(*bench);
  add_gemm_bench(*bench);
}

}  // namespace bf::cli
