#include "bench/infer_bench.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "bench/flops.h"
#include "bench/measure.h"
#include "finetune/tasks.h"
#include "infer/batches.h"
#include "infer/model.h"
#include "model/bert_for_sequence_classification.h"
#include "model/init_weights.h"
#include "tokenizer/tokenizer.h"
#include "train/optimizer.h"
#include "model/precision.h"
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

// Synthetic texts: random ids of the given lengths ([PAD] = 0 never drawn).
std::vector<std::vector<std::int32_t>> make_texts(const std::vector<std::int64_t>& lengths) {
  std::vector<std::vector<std::int32_t>> texts;
  for (auto length : lengths) {
    const auto ids = torch::randint(999, 30000, {length}, torch::kInt);
    texts.emplace_back(ids.data_ptr<std::int32_t>(), ids.data_ptr<std::int32_t>() + length);
  }
  return texts;
}

// The padded tokens and sum of squared widths of the passes' batches (what
// the FLOP count needs): each batch as wide as its longest text (dynamic) or
// pad_to (fixed), as infer::run pads them.
std::pair<double, double> padded_work(const std::vector<std::int64_t>& lengths, std::int64_t batch, std::int64_t pad_to) {
  double tokens = 0, squares = 0;
  for (const auto& index : infer::plan_by_length(lengths, batch)) {
    std::int64_t width = pad_to;
    for (auto i : index) width = std::max(width, lengths[static_cast<std::size_t>(i)]);
    const double w = static_cast<double>(width), rows = static_cast<double>(index.size());
    tokens += rows * w;
    squares += rows * w * w;
  }
  return {tokens, squares};
}

struct TrainBatch {
  torch::Tensor input_ids, token_type_ids, attention_mask, labels;
};

// Fine-tuning steps' batches of `batch` texts, each padded to its longest
// (dynamic) or to pad_to, in the order infer::run would make them.
std::vector<TrainBatch> train_batches(const std::vector<std::vector<std::int32_t>>& texts, std::int64_t batch,
                                      std::int64_t pad_to, const torch::Device& device) {
  std::vector<infer::Sequence> sequences;
  std::vector<std::int64_t> lengths;
  for (const auto& t : texts) {
    sequences.push_back({&t, nullptr});
    lengths.push_back(static_cast<std::int64_t>(t.size()));
  }
  std::vector<TrainBatch> out;
  for (const auto& index : infer::plan_by_length(lengths, batch)) {
    const auto b = infer::pad(sequences, index, 0, pad_to);
    const auto rows = static_cast<std::int64_t>(index.size());
    out.push_back({b.input_ids.to(device), b.token_type_ids.to(device), b.attention_mask.to(device),
                   torch::randint(0, 2, {rows}, torch::kLong).to(device)});
  }
  return out;
}

struct PassResult {
  double seconds = 0;
  double sequences_per_s = 0;
};

// The median of `repeat` timed passes after one that warms up.
template <class Pass>
PassResult time_passes(const InferBenchOptions& o, const torch::Device& device, std::int64_t sequences, Pass pass) {
  std::vector<double> times;
  for (int r = 0; r < o.repeat + 1; ++r) {
    sync(device);
    const auto start = Clock::now();
    pass();
    sync(device);
    if (r > 0) times.push_back(seconds_since(start));
  }
  PassResult p;
  p.seconds = median(times);
  p.sequences_per_s = static_cast<double>(sequences) / p.seconds;
  return p;
}

// Every text's logits [texts, labels] from one dynamic-padding pass.
torch::Tensor all_logits(infer::Model& model, const std::vector<infer::Sequence>& sequences, std::int64_t batch) {
  std::vector<torch::Tensor> rows(sequences.size());
  infer::run(model, sequences, {batch, 0}, [&](const infer::PaddedBatch& b, const infer::Outputs& out) {
    for (std::size_t r = 0; r < b.index.size(); ++r)
      rows[static_cast<std::size_t>(b.index[r])] = out.logits[static_cast<std::int64_t>(r)].to(torch::kFloat);
  });
  return torch::stack(rows);
}

// How far a precision's answers are from fp32's on the same texts: the share
// of equal labels and the logits' cosine similarity per text.
nlohmann::json agreement(const torch::Tensor& logits, const torch::Tensor& fp32) {
  const auto same = logits.argmax(1).eq(fp32.argmax(1)).sum().item<std::int64_t>();
  const auto cosine = torch::cosine_similarity(logits, fp32, 1);
  const auto count = fp32.size(0);
  std::printf("  against fp32 on the same texts: labels %.2f %% equal (%lld of %lld), logits cosine mean %.5f, min %.5f\n",
              100.0 * static_cast<double>(same) / static_cast<double>(count), static_cast<long long>(same),
              static_cast<long long>(count), cosine.mean().item<double>(), cosine.min().item<double>());
  return {{"labels_equal", static_cast<double>(same) / static_cast<double>(count)},
          {"cosine_mean", cosine.mean().item<double>()}, {"cosine_min", cosine.min().item<double>()}};
}

}  // namespace

void run_infer_bench(const InferBenchOptions& o) {
  const auto precision = infer::parse_precision(o.precision);
  if (o.train && precision == infer::Precision::Int8) bf::fail("--precision int8 is for predict only, not --train");
  const auto device = model::resolve_device(o.device);
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
  }
  infer::Model model(config, nullptr, ft::task_entry(ft::TaskType::SingleLabel).head, net.ptr(), device);
  const auto texts = make_texts(lengths);
  std::vector<infer::Sequence> sequences;
  for (const auto& t : texts) sequences.push_back({&t, nullptr});
  const auto count = static_cast<std::int64_t>(texts.size());
  // Predict runs in the model's precision (infer::Model::set_precision);
  // fp32's logits first, to say how far another precision's answers move.
  torch::Tensor fp32_logits;
  if (!o.train && precision != infer::Precision::Fp32) {
    fp32_logits = all_logits(model, sequences, o.batch);
    model.set_precision(precision);
  }

  nlohmann::json j = {{"bench", "infer"},    {"preset", o.preset},       {"texts", lengths.size()},
                      {"mean_tokens", mean_len}, {"batch", o.batch},     {"mode", o.train ? "finetune" : "predict"},
                      {"precision", o.precision}, {"device", device.str()}, {"threads", at::get_num_threads()},
                      {"gemm_peak_fp32_gflops", peaks.fp32}, {"gemm_peak_bf16_gflops", peaks.bf16}};
  double rates[2] = {0, 0};
  for (const bool dynamic : {true, false}) {
    const auto pad_to = dynamic ? 0 : o.pad_to;
    PassResult result;
    if (o.train) {
      const auto batches = train_batches(texts, o.batch, pad_to, device);
      result = time_passes(o, device, count, [&] {
        for (const auto& b : batches) {
          torch::Tensor loss;
          {
            model::AutocastGuard autocast(o.precision, device);
            loss = net->forward(b.input_ids, b.token_type_ids, b.attention_mask, b.labels).loss;
          }
          loss.backward();
          optimizer->step(2e-5);
          optimizer->zero_grad();
        }
      });
    } else {
      result = time_passes(o, device, count, [&] {
        infer::run(model, sequences, {o.batch, pad_to}, [](const infer::PaddedBatch&, const infer::Outputs&) {});
      });
    }
    const auto [tokens, squares] = padded_work(lengths, o.batch, pad_to);
    const double gflop = encoder_forward_flops(config, tokens, squares) * (o.train ? 3 : 1) / 1e9;
    const std::string name = dynamic ? "dynamic padding" : "padded to " + std::to_string(o.pad_to);
    std::printf("  %-16s %8.1f sequences/s  (%.3f s per pass; %.1f GFLOP/s on the padded tokens)\n", name.c_str(),
                result.sequences_per_s, result.seconds, gflop / result.seconds);
    rates[dynamic ? 0 : 1] = result.sequences_per_s;
    j[dynamic ? "dynamic_sequences_per_s" : "padded_sequences_per_s"] = result.sequences_per_s;
  }
  std::printf("  dynamic padding / padded to %lld: %.2fx sequences/s\n", static_cast<long long>(o.pad_to),
              rates[0] / rates[1]);
  if (fp32_logits.defined()) j["against_fp32"] = agreement(all_logits(model, sequences, o.batch), fp32_logits);
  std::printf("  peak resident memory %.2f GiB\n", peak_rss_gib());
  j["speedup"] = rates[0] / rates[1];
  j["peak_rss_gib"] = peak_rss_gib();
  if (!o.json.empty()) write_file_atomic(o.json, j.dump(2) + "\n");
}

}  // namespace bf::bench
