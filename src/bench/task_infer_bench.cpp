#include "bench/task_infer_bench.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/measure.h"
#include "finetune/qa/qa_reader.h"
#include "finetune/tagging/tagger.h"
#include "finetune/tasks.h"
#include "infer/model.h"
#include "model/bert_for_question_answering.h"
#include "model/bert_for_token_classification.h"
#include "model/init_weights.h"
#include "tokenizer/tokenizer.h"
#include "model/precision.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::bench {
namespace {

struct Timed {
  double seconds = 0;   // median of the timed passes
  std::int64_t items = 0;
  std::int64_t windows = 0;
};

// A tokenizer the caller keeps alive, as an inference model holds one.
std::shared_ptr<const tok::Tokenizer> shared(const tok::Tokenizer& tokenizer) {
  return std::shared_ptr<const tok::Tokenizer>(std::shared_ptr<void>(), &tokenizer);
}

template <class Pass>
Timed time_passes(int repeat, const torch::Device& device, Pass pass) {
  std::vector<double> times;
  Timed t;
  for (int r = 0; r < repeat + 1; ++r) {
    sync(device);
    const auto start = Clock::now();
    pass(t);
    sync(device);
    if (r > 0) times.push_back(seconds_since(start));  // the first pass warms up
  }
  t.seconds = median(times);
  return t;
}

Timed tagging_passes(const InferBenchOptions& o, const tok::Tokenizer& tokenizer, model::BertConfig config,
                     const torch::Device& device) {
  ft::tagging::TaggedReadOptions read;
  read.labels_required = false;
  auto data = ft::tagging::read_tagged(o.input, read);
  if (static_cast<std::int64_t>(data.sentences.size()) > o.max_texts) data.sentences.resize(static_cast<std::size_t>(o.max_texts));
  std::vector<std::string> names{"O"};
  for (const char* type : {"corporation", "creative-work", "group", "location", "person", "product"})
    for (const char* prefix : {"B-", "I-"}) names.push_back(std::string(prefix) + type);
  const ft::LabelMap labels(names);
  config.num_labels = labels.size();
  torch::manual_seed(1234);
  model::BertForTokenClassification net(config);
  model::init_bert_weights(*net, config);
  net->to(device);
  labels.store_in(config);
  infer::Model model(config, shared(tokenizer), ft::task_entry(ft::TaskType::TokenClassification).head, net.ptr(),
                     device);
  model.set_precision(infer::parse_precision(o.precision));
  ft::tagging::WindowOptions windows;
  windows.max_seq_length = o.pad_to;
  return time_passes(o.repeat, device, [&](Timed& t) {
    const auto windowed = ft::tagging::window_sentences(data.sentences, tokenizer, windows, nullptr);
    const auto tags = ft::tagging::predict_tags(model, windowed, data.sentences, o.batch);
    t.items = static_cast<std::int64_t>(tags.size());
    t.windows = static_cast<std::int64_t>(windowed.windows.size());
  });
}

Timed qa_passes(const InferBenchOptions& o, const tok::Tokenizer& tokenizer, model::BertConfig config,
                const torch::Device& device) {
  auto data = ft::qa::read_squad(o.input, /*training=*/false);
  if (static_cast<std::int64_t>(data.examples.size()) > o.max_texts) data.examples.resize(static_cast<std::size_t>(o.max_texts));
  config.num_labels = 2;
  torch::manual_seed(1234);
  model::BertForQuestionAnswering net(config);
  model::init_bert_weights(*net, config);
  net->to(device);
  infer::Model model(config, shared(tokenizer), ft::task_entry(ft::TaskType::QuestionAnswering).head, net.ptr(),
                     device);
  model.set_precision(infer::parse_precision(o.precision));
  ft::qa::QaSettings settings;
  settings.features.max_seq_length = static_cast<int>(o.pad_to);
  return time_passes(o.repeat, device, [&](Timed& t) {
    const auto set = ft::qa::build_features(data.examples, tokenizer, settings.features, /*training=*/false);
    const auto answers = ft::qa::answer(model, data, set, settings, o.batch);
    t.items = static_cast<std::int64_t>(answers.size());
    t.windows = static_cast<std::int64_t>(set.features.size());
  });
}

}  // namespace

void run_task_infer_bench(const InferBenchOptions& o) {
  if (o.input.empty() || o.tokenizer.empty())
    bf::fail("bench infer --task " + o.task + " needs --input (a CoNLL file or SQuAD JSON) and --tokenizer");
  if (o.train) bf::fail("bench infer --task " + o.task + " times predict only (no --train)");
  const auto device = model::resolve_device(o.device);
  const auto tokenizer = tok::load_tokenizer(o.tokenizer);
  auto config = model::BertConfig::preset(o.preset);
  config.vocab_size = tokenizer->vocab_size();
  config.pad_token_id = tokenizer->special_ids().pad;
  const bool tagging = o.task == "token_classification";
  std::printf("bench infer: %s predict, preset %s, %s, window %lld, batch %lld, %s, %s, %d threads\n", o.task.c_str(),
              o.preset.c_str(), o.input.c_str(), static_cast<long long>(o.pad_to), static_cast<long long>(o.batch),
              o.precision.c_str(), device.str().c_str(), at::get_num_threads());
  const auto peaks = measure_gemm_peaks(device);
  std::printf("  GEMM peak (2048^2 mm, same process): fp32 %.1f GFLOP/s, bf16 %s\n", peaks.fp32,
              gflops_or_na(peaks.bf16).c_str());
  const auto t = tagging ? tagging_passes(o, *tokenizer, config, device) : qa_passes(o, *tokenizer, config, device);
  const char* unit = tagging ? "sentences" : "questions";
  const double rate = static_cast<double>(t.items) / t.seconds;
  std::printf("  %lld %s (%lld windows) in %.3f s: %.1f %s/s, %.1f windows/s (dynamic padding)\n",
              static_cast<long long>(t.items), unit, static_cast<long long>(t.windows), t.seconds, rate, unit,
              static_cast<double>(t.windows) / t.seconds);
  std::printf("  peak resident memory %.2f GiB\n", peak_rss_gib());
  if (o.json.empty()) return;
  const nlohmann::json j = {{"bench", "infer"},      {"task", o.task},          {"preset", o.preset},
                            {"input", o.input},      {unit, t.items},           {"windows", t.windows},
                            {"seconds", t.seconds},  {std::string(unit) + "_per_s", rate},
                            {"batch", o.batch},      {"window", o.pad_to},      {"precision", o.precision},
                            {"device", device.str()}, {"threads", at::get_num_threads()},
                            {"gemm_peak_fp32_gflops", peaks.fp32}, {"peak_rss_gib", peak_rss_gib()}};
  write_file_atomic(o.json, j.dump(2) + "\n");
}

}  // namespace bf::bench
