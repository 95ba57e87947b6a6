// bertforge bench train | infer | gemm
//
// Speed benchmarks on synthetic, well-formed batches (the peer's method in
// shared/facts/peer-throughput.md). Every figure that depends on the machine
// is printed beside the GEMM peak measured in the same process, so runs on
// different machines compare as shares of that peak.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/bert_for_pretraining.h"
#include "model/bert_for_sequence_classification.h"
#include "model/flops.h"
#include "model/init_weights.h"
#include "tokenizer/tokenizer.h"
#include "train/grad_clip.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

// Median GFLOP/s of a 2048 x 2048 matmul on all threads: the machine's
// practical peak, the yardstick for every other figure.
double gemm_peak_gflops(torch::ScalarType dtype, const torch::Device& device, int reps = 10) {
  const std::int64_t n = 2048;
  auto options = torch::TensorOptions().dtype(dtype).device(device);
  auto a = torch::randn({n, n}, torch::TensorOptions().device(device)).to(options);
  auto b = torch::randn({n, n}, torch::TensorOptions().device(device)).to(options);
  auto c = torch::mm(a, b);
  std::vector<double> times;
  for (int i = 0; i < reps + 2; ++i) {
    sync(device);
    const auto start = Clock::now();
    torch::mm_out(c, a, b);
    sync(device);
    if (i >= 2) times.push_back(seconds_since(start));
  }
  return 2.0 * n * n * n / median(times) / 1e9;
}

struct GemmPeaks {
  double fp32 = 0;
  double bf16 = 0;
};

// bf16 is left at 0 on a CPU without bf16 matrix instructions: LibTorch's
// generic bf16 GEMM there takes seconds per 2048^2 product and means nothing.
GemmPeaks measure_gemm_peaks(const torch::Device& device) {
  torch::NoGradGuard no_grad;
  GemmPeaks p;
  p.fp32 = gemm_peak_gflops(torch::kFloat32, device);
  if (!device.is_cpu() || train::cpu_has_fast_bf16()) p.bf16 = gemm_peak_gflops(torch::kBFloat16, device);
  return p;
}

std::string gflops_or_na(double v) {
  if (v <= 0) return "n/a (no AVX512_BF16/AMX)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GFLOP/s", v);
  return buf;
}

// ---------------------------------------------------------------- training --

struct TrainBenchOptions {
  std::string preset = "mini";
  std::int64_t seq = 128;
  std::int64_t batch = 32;
  std::string precision = "fp32";
  int steps = 10;
  int warmup = 2;
  std::string device = "auto";
  bool all_positions = false;
  std::string profile;
  std::string json;
  CommonOptions common;
};

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

void run_train_bench(const TrainBenchOptions& o) {
  apply_common_options(o.common);
  const auto device = train::resolve_device(o.device);
  if (o.precision != "fp32" && o.precision != "bf16" && o.precision != "fp16")
    bf::fail("--precision must be fp32, bf16 or fp16, not '" + o.precision + "'");
  auto config = model::BertConfig::preset(o.preset);
  if (o.seq > config.max_position_embeddings)
    bf::fail("--seq " + std::to_string(o.seq) + " exceeds the preset's max_position_embeddings");

  std::printf("bench train: preset %s (L%lld H%lld I%lld V%lld), batch %lld x seq %lld, %s, %s, %d threads\n",
              o.preset.c_str(), static_cast<long long>(config.num_hidden_layers),
              static_cast<long long>(config.hidden_size), static_cast<long long>(config.intermediate_size),
              static_cast<long long>(config.vocab_size), static_cast<long long>(o.batch),
              static_cast<long long>(o.seq), o.precision.c_str(), device.str().c_str(), at::get_num_threads());
  const auto peaks = measure_gemm_peaks(device);

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
      train::AutocastGuard autocast(o.precision, device);
      out = net->forward(batch, o.all_positions);
    }
    sync(device);
    const auto t1 = Clock::now();
    out.loss.backward();
    sync(device);
    const auto t2 = Clock::now();
    train::clip_grad_norm(params, 1.0);
    optimizer.step(oc.lr);
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
  {
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    if (!o.profile.empty()) profile = std::make_unique<torch::autograd::profiler::RecordProfile>(o.profile);
    for (int i = 0; i < o.steps; ++i) one_step(true);
  }

  const double step_s = median(times.total);
  const double tokens = static_cast<double>(o.batch * o.seq);
  const double predicted = o.all_positions ? tokens : labelled;
  const auto flops = model::pretraining_step_flops(config, o.batch, o.seq, predicted);
  const auto peer_flops = model::pretraining_step_flops(config, o.batch, o.seq, tokens);
  const auto useful_flops = model::pretraining_step_flops(config, o.batch, o.seq, labelled);
  const double achieved = flops.total() / step_s / 1e9;

  std::printf("  GEMM peak (2048^2 mm, same process): fp32 %.1f GFLOP/s, bf16 %s\n", peaks.fp32,
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
  std::printf("  peak resident memory %.2f GiB\n", peak_rss_gib());
  if (o.precision == "bf16" && device.is_cpu() && !train::cpu_has_fast_bf16())
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
                        {"share_of_fp32_peak", achieved / peaks.fp32},
                        {"share_of_bf16_peak", peaks.bf16 > 0 ? achieved / peaks.bf16 : 0.0},
                        {"peak_rss_gib", peak_rss_gib()}};
    write_file_atomic(o.json, j.dump(2) + "\n");
  }
}

// --------------------------------------------------------------- inference --

struct InferBenchOptions {
  std::string preset = "base";
  std::string tokenizer;
  std::string input;
  std::int64_t batch = 32;
  std::int64_t pad_to = 128;
  std::int64_t max_texts = 256;
  std::string precision = "fp32";
  std::string device = "auto";
  bool train = false;
  int repeat = 2;
  std::string json;
  CommonOptions common;
};

// Token lengths (with [CLS] and [SEP]) of the texts to run: from a real file
// when given, else a spread like SST-2's sentences (8 to 56 tokens).
std::vector<std::int64_t> text_lengths(const InferBenchOptions& o) {
  std::vector<std::int64_t> lengths;
  if (o.input.empty()) {
    torch::manual_seed(7);
    auto l = torch::randint(8, 57, {o.max_texts}, torch::kLong);
    for (std::int64_t i = 0; i < o.max_texts; ++i) lengths.push_back(l[i].item<std::int64_t>());
    return lengths;
  }
  if (o.tokenizer.empty()) bf::fail("--input needs --tokenizer (a tokenizer directory or a vocab.txt)");
  const auto tokenizer = tok::load_tokenizer(o.tokenizer);
  std::ifstream in(o.input);
  if (!in) bf::fail(o.input + ": cannot open");
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line) && static_cast<std::int64_t>(texts.size()) < o.max_texts;)
    if (!line.empty()) texts.push_back(line);
  if (texts.empty()) bf::fail(o.input + ": no text lines");
  for (const auto& e : tokenizer->encode_batch(texts, 0))
    lengths.push_back(std::min<std::int64_t>(static_cast<std::int64_t>(e.ids.size()) + 2, o.pad_to));
  return lengths;
}

struct InferBatch {
  torch::Tensor input_ids, token_type_ids, attention_mask, labels;
  std::int64_t real_tokens = 0;
};

// Batches of `batch` texts. Dynamic: texts sorted by length (as predict and
// group_by_length do) and each batch padded to its longest; fixed: every
// batch padded to pad_to.
std::vector<InferBatch> make_batches(std::vector<std::int64_t> lengths, std::int64_t batch, std::int64_t pad_to,
                                     bool dynamic, const torch::Device& device) {
  if (dynamic) std::sort(lengths.begin(), lengths.end());
  std::vector<InferBatch> out;
  for (std::size_t start = 0; start < lengths.size(); start += static_cast<std::size_t>(batch)) {
    const auto end = std::min(lengths.size(), start + static_cast<std::size_t>(batch));
    const auto rows = static_cast<std::int64_t>(end - start);
    const std::int64_t width =
        dynamic ? *std::max_element(lengths.begin() + static_cast<std::ptrdiff_t>(start),
                                    lengths.begin() + static_cast<std::ptrdiff_t>(end))
                : pad_to;
    InferBatch b;
    b.input_ids = torch::randint(999, 30000, {rows, width}, torch::kLong);
    b.attention_mask = torch::zeros({rows, width}, torch::kLong);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto len = lengths[start + static_cast<std::size_t>(r)];
      b.attention_mask[r].slice(0, 0, len).fill_(1);
      b.real_tokens += len;
    }
    b.input_ids.mul_(b.attention_mask);  // [PAD] = 0 beyond each text
    b.token_type_ids = torch::zeros({rows, width}, torch::kLong);
    b.labels = torch::randint(0, 2, {rows}, torch::kLong);
    for (auto* t : {&b.input_ids, &b.token_type_ids, &b.attention_mask, &b.labels}) *t = t->to(device);
    out.push_back(std::move(b));
  }
  return out;
}

struct PassResult {
  double seconds = 0;
  double sequences_per_s = 0;
};

PassResult time_pass(model::BertForSequenceClassification& net, train::Optimizer* optimizer,
                     const std::vector<InferBatch>& batches, const InferBenchOptions& o,
                     const torch::Device& device) {
  std::vector<double> times;
  std::int64_t sequences = 0;
  for (const auto& b : batches) sequences += b.input_ids.size(0);
  for (int r = 0; r < o.repeat + 1; ++r) {
    sync(device);
    const auto start = Clock::now();
    for (const auto& b : batches) {
      if (optimizer) {
        torch::Tensor loss;
        {
          train::AutocastGuard autocast(o.precision, device);
          loss = net->forward(b.input_ids, b.token_type_ids, b.attention_mask, b.labels).loss;
        }
        loss.backward();
        optimizer->step(2e-5);
        optimizer->zero_grad();
      } else {
        torch::InferenceMode inference;
        train::AutocastGuard autocast(o.precision, device);
        net->forward(b.input_ids, b.token_type_ids, b.attention_mask);
      }
    }
    sync(device);
    if (r > 0) times.push_back(seconds_since(start));  // the first pass warms up
  }
  PassResult p;
  p.seconds = median(times);
  p.sequences_per_s = static_cast<double>(sequences) / p.seconds;
  return p;
}

void run_infer_bench(const InferBenchOptions& o) {
  apply_common_options(o.common);
  const auto device = train::resolve_device(o.device);
  auto config = model::BertConfig::preset(o.preset);
  config.num_labels = 2;
  const auto lengths = text_lengths(o);
  const double mean_len = std::accumulate(lengths.begin(), lengths.end(), 0.0) / static_cast<double>(lengths.size());
  std::printf("bench infer: preset %s, %zu texts (mean %.1f tokens%s), batch %lld, %s, %s, %s, %d threads\n",
              o.preset.c_str(), lengths.size(), mean_len, o.input.empty() ? ", synthetic" : "",
              static_cast<long long>(o.batch), o.train ? "fine-tuning steps" : "predict (forward)",
              o.precision.c_str(), device.str().c_str(), at::get_num_threads());
  const auto peaks = measure_gemm_peaks(device);
  std::printf("  GEMM peak (2048^2 mm, same process): fp32 %.1f GFLOP/s, bf16 %s\n", peaks.fp32,
              gflops_or_na(peaks.bf16).c_str());

  torch::manual_seed(1234);
  auto net = model::BertForSequenceClassification(config);
  model::init_bert_weights(*net, config);
  net->to(device);
  std::unique_ptr<train::Optimizer> optimizer;
  if (o.train) {
    net->train();
    optimizer = std::make_unique<train::Optimizer>(train::named_parameters(*net), train::OptimizerConfig{});
  } else {
    net->eval();
  }

  nlohmann::json j = {{"bench", "infer"},    {"preset", o.preset},       {"texts", lengths.size()},
                      {"mean_tokens", mean_len}, {"batch", o.batch},     {"mode", o.train ? "finetune" : "predict"},
                      {"precision", o.precision}, {"device", device.str()}, {"threads", at::get_num_threads()},
                      {"gemm_peak_fp32_gflops", peaks.fp32}, {"gemm_peak_bf16_gflops", peaks.bf16}};
  double rates[2] = {0, 0};
  for (const bool dynamic : {true, false}) {
    const auto batches = make_batches(lengths, o.batch, o.pad_to, dynamic, device);
    const auto result = time_pass(net, optimizer.get(), batches, o, device);
    double tokens = 0, squares = 0;
    for (const auto& b : batches) {
      const double width = static_cast<double>(b.input_ids.size(1));
      tokens += static_cast<double>(b.input_ids.numel());
      squares += static_cast<double>(b.input_ids.size(0)) * width * width;
    }
    const double gflop = model::encoder_forward_flops(config, tokens, squares) * (o.train ? 3 : 1) / 1e9;
    const std::string name = dynamic ? "dynamic padding" : "padded to " + std::to_string(o.pad_to);
    std::printf("  %-16s %8.1f sequences/s  (%.3f s per pass; %.1f GFLOP/s on the padded tokens)\n", name.c_str(),
                result.sequences_per_s, result.seconds, gflop / result.seconds);
    rates[dynamic ? 0 : 1] = result.sequences_per_s;
    j[dynamic ? "dynamic_sequences_per_s" : "padded_sequences_per_s"] = result.sequences_per_s;
  }
  std::printf("  dynamic padding / padded to %lld: %.2fx sequences/s\n", static_cast<long long>(o.pad_to),
              rates[0] / rates[1]);
  std::printf("  peak resident memory %.2f GiB\n", peak_rss_gib());
  j["speedup"] = rates[0] / rates[1];
  j["peak_rss_gib"] = peak_rss_gib();
  if (!o.json.empty()) write_file_atomic(o.json, j.dump(2) + "\n");
}

void add_train_bench(CLI::App& parent) {
  auto o = std::make_shared<TrainBenchOptions>();
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
  cmd->add_option("--profile", o->profile, "Write an autograd profile of the timed steps (chrome trace JSON)");
  cmd->add_option("--json", o->json, "Also write the figures as JSON to this file");
  add_common_options(*cmd, o->common);
  cmd->callback([o] { run_train_bench(*o); });
}

void add_infer_bench(CLI::App& parent) {
  auto o = std::make_shared<InferBenchOptions>();
  auto* cmd = parent.add_subcommand(
      "infer", "Classifier passes over short texts: dynamic padding against padding to a fixed length");
  cmd->add_option("--preset", o->preset, "Model preset");
  cmd->add_option("--input", o->input, "Text file, one text per line (default: synthetic SST-2-like lengths)");
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or vocab.txt for --input");
  cmd->add_option("--batch", o->batch, "Texts per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--pad-to", o->pad_to, "The fixed length to compare with")->check(CLI::PositiveNumber);
  cmd->add_option("--max-texts", o->max_texts, "Texts per pass")->check(CLI::PositiveNumber);
  cmd->add_option("--precision", o->precision, "fp32 | bf16");
  cmd->add_option("--device", o->device, "cpu | cuda | auto");
  cmd->add_flag("--train", o->train, "Fine-tuning steps (forward, backward, AdamW) instead of predict");
  cmd->add_option("--repeat", o->repeat, "Timed passes (the median counts)")->check(CLI::PositiveNumber);
  cmd->add_option("--json", o->json, "Also write the figures as JSON to this file");
  add_common_options(*cmd, o->common);
  cmd->callback([o] { run_infer_bench(*o); });
}

void add_gemm_bench(CLI::App& parent) {
  auto common = std::make_shared<CommonOptions>();
  auto device = std::make_shared<std::string>("auto");
  auto* cmd = parent.add_subcommand("gemm", "The 2048 x 2048 matmul peak, fp32 and bf16");
  cmd->add_option("--device", *device, "cpu | cuda | auto");
  add_common_options(*cmd, *common);
  cmd->callback([common, device] {
    apply_common_options(*common);
    const auto d = train::resolve_device(*device);
    const auto peaks = measure_gemm_peaks(d);
    std::printf("GEMM 2048^2 on %s, %d threads: fp32 %.1f GFLOP/s, bf16 %s\n", d.str().c_str(),
                at::get_num_threads(), peaks.fp32, gflops_or_na(peaks.bf16).c_str());
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
