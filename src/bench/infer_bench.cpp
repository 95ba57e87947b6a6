#include "bench/infer_bench.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "bench/flops.h"
#include "bench/measure.h"
#include "model/bert_for_sequence_classification.h"
#include "model/init_weights.h"
#include "tokenizer/tokenizer.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::bench {
namespace {



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

}  // namespace

void run_infer_bench(const InferBenchOptions& o) {
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
    const double gflop = encoder_forward_flops(config, tokens, squares) * (o.train ? 3 : 1) / 1e9;
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

}  // namespace bf::bench
