#include "bench/train_bench.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>

#include "bench/flops.h"
#include "bench/measure.h"
#include "model/bert_for_pretraining.h"
#include "model/init_weights.h"
#include "train/grad_clip.h"
#include "train/optimizer.h"
#include "model/precision.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::bench {
namespace {



// [CLS] A [SEP] B [SEP] with BERT's uncased special ids, 15% of the
// non-special positions labelled (compact form, as the data loader gives).
model::PreTrainingInputs synthetic_pretraining_batch(std::int64_t batch, std::int64_t seq, std::int64_t vocab) {
  constexpr std::int64_t kCls = 101, kSep = 102, kMask = 103, kFirstWord = 999;
  const std::int64_t len_a = (seq - 3) / 2;
  const std::int64_t sep_a = 1 + len_a;
  model::PreTrainingInputs in;
  in.input_ids = torch::randint(kFirstWord, vocab, {batch, seq}, torch::kLong);
  in.input_ids.index_put_({torch::indexing::Slice(), 0}, kCls);
  in.input_ids.index_put_({torch::indexing::Slice(), sep_a}, kSep);
  in.input_ids.index_put_({torch::indexing::Slice(), seq - 1}, kSep);
  in.token_type_ids = torch::zeros({batch, seq}, torch::kLong);
  in.token_type_ids.index_put_({torch::indexing::Slice(), torch::indexing::Slice(sep_a + 1)}, 1);
  in.attention_mask = torch::ones({batch, seq}, torch::kLong);

  std::vector<std::int64_t> candidates;
  for (std::int64_t s = 1; s < seq - 1; ++s)
    if (s != sep_a) candidates.push_back(s);
  const auto predictions = static_cast<std::int64_t>(std::lround(0.15 * static_cast<double>(candidates.size())));
  auto cand = torch::tensor(candidates, torch::kLong);
  in.masked_positions = torch::empty({batch, predictions}, torch::kLong);
  for (std::int64_t b = 0; b < batch; ++b) {
    auto chosen = cand.index_select(0, torch::randperm(cand.size(0), torch::kLong).slice(0, 0, predictions));
    in.masked_positions[b] = std::get<0>(chosen.sort());
  }
  in.masked_labels = in.input_ids.gather(1, in.masked_positions);
  in.input_ids.scatter_(1, in.masked_positions, kMask);
  in.next_sentence_label = torch::randint(0, 2, {batch}, torch::kLong);
  return in;
}

model::PreTrainingInputs to_device(const model::PreTrainingInputs& in, const torch::Device& device) {
  model::PreTrainingInputs out = in;
  for (auto* t : {&out.input_ids, &out.token_type_ids, &out.attention_mask, &out.masked_positions,
                  &out.masked_labels, &out.next_sentence_label})
    *t = t->to(device);
  return out;
}

struct StepTimes {
  std::vector<double> total, forward, backward, optimizer;
};

void print_share(const char* what, double gflops, double peak) {
  std::printf("  %-34s %8.1f GFLOP/s = %5.1f%% of the %s GEMM peak (%.1f)\n", what, gflops, 100 * gflops / peak,
              what[0] == 'b' ? "bf16" : "fp32", peak);
}

}  // namespace

void run_train_bench(const TrainBenchOptions& o) {
  const auto device = model::resolve_device(o.device);
  if (o.precision != "fp32" && o.precision != "bf16" && o.precision != "fp16")
    bf::fail("--precision must be fp32, bf16 or fp16, not '" + o.precision + "'");
  auto config = model::BertConfig::preset(o.preset);
  if (o.seq > config.max_position_embeddings)
    bf::fail("--seq " + std::to_string(o.seq) + " exceeds the preset's max_position_embeddings");

  config.fused_kernels = !o.unfused;
  std::printf("bench train: preset %s (L%lld H%lld I%lld V%lld), batch %lld x seq %lld, %s, %s, %d threads%s\n",
              o.preset.c_str(), static_cast<long long>(config.num_hidden_layers),
              static_cast<long long>(config.hidden_size), static_cast<long long>(config.intermediate_size),
              static_cast<long long>(config.vocab_size), static_cast<long long>(o.batch),
              static_cast<long long>(o.seq), o.precision.c_str(), device.str().c_str(), at::get_num_threads(),
              o.unfused ? ", unfused" : "");
  GemmPeakSampler peak_sampler(device);

  torch::manual_seed(1234);
  auto net = model::BertForPreTraining(config);
  model::init_bert_weights(*net, config);
  net->to(device);
  net->train();
  train::OptimizerConfig oc;
  oc.lr = 1e-4;
  train::Optimizer optimizer(train::named_parameters(*net), oc);
  const auto params = optimizer.parameters();
  const auto batch = to_device(synthetic_pretraining_batch(o.batch, o.seq, config.vocab_size), device);
  const double labelled = static_cast<double>(batch.masked_positions.numel());

  StepTimes times;
  auto one_step = [&](bool record) {
    sync(device);
    const auto t0 = Clock::now();
    model::PreTrainingOutput out;
    {
      model::AutocastGuard autocast(o.precision, device);
      out = net->forward(batch, o.all_positions);
    }
    sync(device);
    const auto t1 = Clock::now();
    out.loss.backward();
    sync(device);
    const auto t2 = Clock::now();
    optimizer.step(oc.lr, train::clip_factor(params, 1.0).scale);  // as the trainer clips
    optimizer.zero_grad();
    sync(device);
    const auto t3 = Clock::now();
    if (!record) return;
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    times.forward.push_back(secs(t0, t1));
    times.backward.push_back(secs(t1, t2));
    times.optimizer.push_back(secs(t2, t3));
    times.total.push_back(secs(t0, t3));
  };
  for (int i = 0; i < o.warmup; ++i) one_step(false);
  double faults_per_step = 0, faults_total = 0;
  // The yardstick is sampled next to the timed steps (the VM's speed drifts
  // over seconds): right before them, after each one, but not while
  // profiling, which would record these products as the step's: then before
  // and after the profiled block.
  peak_sampler.sample(o.profile.empty() ? 2 : 10);
  {
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    if (!o.profile.empty()) profile = std::make_unique<torch::autograd::profiler::RecordProfile>(o.profile);
    std::vector<double> faults;
    for (int i = 0; i < o.steps; ++i) {
      const auto faults_before = minor_page_faults();
      one_step(true);
      faults.push_back(static_cast<double>(minor_page_faults() - faults_before));
      if (!profile) peak_sampler.sample(2);
    }
    // The median, as for the step time: the heap can still grow in the first
    // timed step after a short warmup (base: ~60 MB in the third step), and
    // the figure is meant to show what every step costs.
    faults_per_step = median(faults);
    for (double f : faults) faults_total += f;
  }
  if (!o.profile.empty()) peak_sampler.sample(10);
  const auto peaks = peak_sampler.median();

  const double step_s = median(times.total);
  const double tokens = static_cast<double>(o.batch * o.seq);
  const double predicted = o.all_positions ? tokens : labelled;
  const auto flops = pretraining_step_flops(config, o.batch, o.seq, predicted);
  const auto peer_flops = pretraining_step_flops(config, o.batch, o.seq, tokens);
  const auto useful_flops = pretraining_step_flops(config, o.batch, o.seq, labelled);
  const double achieved = flops.total() / step_s / 1e9;

  std::printf("  GEMM peak (2048^2 mm, median of %zu sampled before and between the steps): fp32 %.1f GFLOP/s "
              "[%.1f-%.1f], bf16 %s\n",
              peak_sampler.samples(), peaks.fp32, peak_sampler.fp32_min(), peak_sampler.fp32_max(),
              gflops_or_na(peaks.bf16).c_str());
  std::printf("  median step %.4f s (forward %.4f, backward %.4f, clip+optimizer %.4f) over %d steps\n", step_s,
              median(times.forward), median(times.backward), median(times.optimizer), o.steps);
  std::printf("  %.1f sequences/s, %.0f tokens/s\n", static_cast<double>(o.batch) / step_s, tokens / step_s);
  std::printf("  model FLOPs per step: %.1f GFLOP = encoder linears 6L(4H^2+2HI)T %.1f + attention 12LS^2HB %.1f\n"
              "    + MLM transform 6H^2M %.1f + MLM decoder 6HVM %.1f, with M = %.0f predicted positions%s\n",
              flops.total() / 1e9, flops.encoder_linears / 1e9, flops.attention / 1e9, flops.mlm_transform / 1e9,
              flops.mlm_decoder / 1e9, predicted, o.all_positions ? " (all)" : " (the labelled ones)");
  std::printf("  (the peer computes the decoder at all positions: %.1f GFLOP per step of the same work)\n",
              peer_flops.total() / 1e9);
  print_share(o.precision == "fp32" ? "achieved (fp32)" : "achieved vs fp32", achieved, peaks.fp32);
  if (o.precision != "fp32" && peaks.bf16 > 0) print_share("bf16 achieved", achieved, peaks.bf16);
  std::printf("  peak resident memory %.2f GiB, %.0f minor page faults per step (median; %.1f MB faulted in)\n",
              peak_rss_gib(), faults_per_step, faults_per_step * 4096 / 1e6);
  if (o.precision == "bf16" && device.is_cpu() && !model::cpu_has_fast_bf16())
    std::printf("  note: this CPU has no AVX512_BF16/AMX, so bf16 matmuls run in slow generic code\n");
  if (!o.profile.empty()) std::printf("  profile (chrome://tracing) written to %s\n", o.profile.c_str());

  if (!o.json.empty()) {
    nlohmann::json j = {{"bench", "train"},
                        {"preset", o.preset},
                        {"batch", o.batch},
                        {"seq", o.seq},
                        {"precision", o.precision},
                        {"device", device.str()},
                        {"threads", at::get_num_threads()},
                        {"all_position_logits", o.all_positions},
                        {"fused_kernels", !o.unfused},
                        {"steps", o.steps},
                        {"median_step_s", step_s},
                        {"forward_s", median(times.forward)},
                        {"backward_s", median(times.backward)},
                        {"optimizer_s", median(times.optimizer)},
                        {"sequences_per_s", static_cast<double>(o.batch) / step_s},
                        {"tokens_per_s", tokens / step_s},
                        {"step_gflop", flops.total() / 1e9},
                        {"useful_step_gflop", useful_flops.total() / 1e9},
                        {"peer_step_gflop", peer_flops.total() / 1e9},
                        {"achieved_gflops", achieved},
                        {"gemm_peak_fp32_gflops", peaks.fp32},
                        {"gemm_peak_bf16_gflops", peaks.bf16},
                        {"gemm_peak_fp32_min_gflops", peak_sampler.fp32_min()},
                        {"gemm_peak_fp32_max_gflops", peak_sampler.fp32_max()},
                        {"gemm_peak_samples", peak_sampler.samples()},
                        {"share_of_fp32_peak", achieved / peaks.fp32},
                        {"share_of_bf16_peak", peaks.bf16 > 0 ? achieved / peaks.bf16 : 0.0},
                        {"peak_rss_gib", peak_rss_gib()},
                        {"minor_faults_per_step", faults_per_step},
                        {"minor_faults_total", faults_total}};
    write_file_atomic(o.json, j.dump(2) + "\n");
  }
}

}  // namespace bf::bench
