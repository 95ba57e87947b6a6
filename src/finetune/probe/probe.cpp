#include "finetune/probe/probe.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <random>

#include "finetune/classify/classifier.h"
#include "finetune/classify/metrics.h"
#include "finetune/probe/logistic_regression.h"
#include "finetune/tasks.h"
#include "model/bert_for_sequence_classification.h"
#include "model/init_weights.h"
#include "infer/embed.h"
#include "train/rng_state.h"

namespace bf::ft {
namespace {

std::vector<std::int64_t> range(std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(std::max<std::int64_t>(0, end - begin)));
  std::iota(v.begin(), v.end(), begin);
  return v;
}

std::vector<std::int64_t> gold_labels(const classify::Dataset& data) {
  std::vector<std::int64_t> gold;
  for (const auto& e : data.examples) gold.push_back(e.label);
  return gold;
}

void score(const classify::Dataset& dev, const std::vector<std::int64_t>& predicted, std::int64_t classes, ProbeResult& r) {
  const auto gold = gold_labels(dev);
  r.accuracy = classify::accuracy(gold, predicted);
  r.macro_f1 = classify::macro_f1(classify::confusion_matrix(gold, predicted, classes));
}

std::vector<std::int64_t> to_vector(const torch::Tensor& ids) {
  const auto t = ids.to(torch::kCPU, torch::kLong).contiguous();
  return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel()};
}

void linear_probe(model::BertModel& encoder, const ProbeData& data, const ProbeSection& s, torch::Device device,
                  ProbeResult& result) {
  const auto train_x = mean_pooled_features(encoder, data.train, data.pad_id, device);
  const auto dev_x = mean_pooled_features(encoder, data.dev, data.pad_id, device);
  const auto classes = static_cast<std::int64_t>(data.label_names.size());
  const auto y = torch::tensor(gold_labels(data.train), torch::kLong);
  const auto classifier = fit_logistic_regression(train_x, y, classes, s.l2, s.max_iterations);
  score(data.dev, to_vector(classifier.predict(dev_x)), classes, result);
}

// Linear warmup over the first 10 % of the steps, then linear decay to 0.
double finetune_lr(const ProbeSection& s, std::int64_t step) {
  const auto warmup = std::max<std::int64_t>(1, s.steps / 10);
  if (step < warmup) return s.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  return s.lr * static_cast<double>(s.steps - step) / static_cast<double>(std::max<std::int64_t>(1, s.steps - warmup));
}

void finetune_probe(model::BertModel& encoder, const ProbeData& data, const ProbeSection& s, torch::Device device,
                    ProbeResult& result) {
  auto config = encoder->config();
  config.num_labels = static_cast<std::int64_t>(data.label_names.size());
  config.id2label = data.label_names;
  config.problem_type = "single_label_classification";
  config.extra.erase("bertforge_head");  // HF's pooler head
  model::BertForSequenceClassification classifier(config);
  model::init_bert_weights(*classifier, config);
  {
    torch::NoGradGuard no_grad;
    auto target = classifier->bert->named_parameters();
    for (const auto& p : encoder->named_parameters()) {
      if (auto* t = target.find(p.key())) t->copy_(p.value());
    }
  }
  classifier->to(device);
  classifier->train();

  torch::optim::AdamW optimizer(classifier->parameters(), torch::optim::AdamWOptions(s.lr).weight_decay(0.01));
  std::mt19937_64 engine(static_cast<std::uint64_t>(s.seed));
  std::vector<std::int64_t> order;
  std::size_t next = 0;
  for (std::int64_t step = 0; step < s.steps; ++step) {
    std::vector<std::int64_t> index;
    while (static_cast<std::int64_t>(index.size()) < std::min(s.batch_size, data.train.size())) {
      if (next == order.size()) {  // a new pass over the examples, in a fresh order
        order = range(0, data.train.size());
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[engine() % i]);
        next = 0;
      }
      index.push_back(order[next++]);
    }
    const auto batch = classify::collate(data.train, index, data.pad_id);
    for (auto& group : optimizer.param_groups()) group.options().set_lr(finetune_lr(s, step));
    optimizer.zero_grad();
    auto out = classifier->forward(batch.input_ids.to(device), batch.token_type_ids.to(device),
                                   batch.attention_mask.to(device), batch.labels.to(device));
    out.loss.backward();
    optimizer.step();
  }

  config.pad_token_id = data.pad_id;
  infer::Model model(config, nullptr, task_entry(TaskType::SingleLabel).head, classifier.ptr(), device);
  score(data.dev, to_vector(classify::predict_logits(model, data.dev, 64).argmax(1)), config.num_labels, result);
}

}  // namespace

nlohmann::json ProbeResult::to_json() const {
  return {{"accuracy", accuracy},
          {"macro_f1", macro_f1},
          {"train_examples", train_examples},
          {"dev_examples", dev_examples},
          {"seconds", seconds}};
}

ProbeResult ProbeResult::from_json(const nlohmann::json& j) {
  ProbeResult r;
  r.accuracy = j.at("accuracy").get<double>();
  r.macro_f1 = j.at("macro_f1").get<double>();
  r.train_examples = j.value("train_examples", std::int64_t{0});
  r.dev_examples = j.value("dev_examples", std::int64_t{0});
  r.seconds = j.value("seconds", 0.0);
  return r;
}

torch::Tensor mean_pooled_features(model::BertModel& encoder, const classify::Dataset& data, std::int32_t pad_id,
                                   torch::Device device, std::int64_t batch_size) {
  auto config = encoder->config();
  config.pad_token_id = pad_id;
  infer::Model model(config, nullptr, infer::encoder_head(), encoder.ptr(), device);
  std::vector<infer::Sequence> sequences;
  for (const auto& e : data.examples) sequences.push_back({&e.input_ids, &e.token_type_ids});
  infer::EmbedOptions options;
  options.pooling = infer::Pooling::Mean;
  options.batch_size = batch_size;
  return torch::stack(infer::embed(model, sequences, options));
}

ProbeResult run_probe(model::BertModel& encoder, const ProbeData& data, const ProbeSection& section,
                      torch::Device device) {
  const auto t0 = std::chrono::steady_clock::now();
  // The probe's own draws: seeded here, the caller's state put back after.
  train::RngStateGuard rng;
  torch::manual_seed(static_cast<std::uint64_t>(section.seed));
  ProbeResult result;
  result.train_examples = data.train.size();
  result.dev_examples = data.dev.size();
  if (section.mode == ProbeMode::Linear) {
    linear_probe(encoder, data, section, device, result);
  } else {
    finetune_probe(encoder, data, section, device, result);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace bf::ft
