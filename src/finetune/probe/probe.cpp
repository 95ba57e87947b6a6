#include "finetune/probe/probe.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <random>

#include "finetune/metrics.h"
#include "finetune/probe/logistic_regression.h"
#include "model/bert_for_sequence_classification.h"
#include "model/init_weights.h"
#include "train/rng_state.h"

namespace bf::ft {
namespace {

// Restores a module's train/eval mode on the way out.
class ModeGuard {
 public:
  explicit ModeGuard(torch::nn::Module& m) : module_(m), training_(m.is_training()) {}
  ~ModeGuard() { module_.train(training_); }

 private:
  torch::nn::Module& module_;
  bool training_;
};

std::vector<std::int64_t> range(std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(std::max<std::int64_t>(0, end - begin)));
  std::iota(v.begin(), v.end(), begin);
  return v;
}

std::vector<std::int64_t> gold_labels(const Dataset& data) {
  std::vector<std::int64_t> gold;
  for (const auto& e : data.examples) gold.push_back(e.label);
  return gold;
}

void score(const Dataset& dev, const std::vector<std::int64_t>& predicted, std::int64_t classes, ProbeResult& r) {
  const auto gold = gold_labels(dev);
  r.accuracy = accuracy(gold, predicted);
  r.macro_f1 = macro_f1(confusion_matrix(gold, predicted, classes));
}

std::vector<std::int64_t> to_vector(const torch::Tensor& ids) {
  const auto t = ids.to(torch::kCPU, torch::kLong).contiguous();
  return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel()};
}

void linear_probe(model::BertModel& encoder, const ProbeData& data, const ProbeSection& s, torch::Device device,
                  ProbeResult& result) {
  torch::Tensor train_x, dev_x;
  {
    ModeGuard mode(*encoder);
    encoder->eval();
    train_x = mean_pooled_features(encoder, data.train, data.pad_id, device);
    dev_x = mean_pooled_features(encoder, data.dev, data.pad_id, device);
  }
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
    const auto batch = collate(data.train, index, data.pad_id);
    for (auto& group : optimizer.param_groups()) group.options().set_lr(finetune_lr(s, step));
    optimizer.zero_grad();
    auto out = classifier->forward(batch.input_ids.to(device), batch.token_type_ids.to(device),
                                   batch.attention_mask.to(device), batch.labels.to(device));
    out.loss.backward();
    optimizer.step();
  }

  classifier->eval();
  c10::InferenceMode inference;
  std::vector<std::int64_t> predicted;
  for (std::int64_t begin = 0; begin < data.dev.size(); begin += 64) {
    const auto batch = collate(data.dev, range(begin, std::min(begin + 64, data.dev.size())), data.pad_id);
    const auto logits = classifier->forward(batch.input_ids.to(device), batch.token_type_ids.to(device),
                                            batch.attention_mask.to(device)).logits;
    for (auto id : to_vector(logits.argmax(1))) predicted.push_back(id);
  }
  score(data.dev, predicted, config.num_labels, result);
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

torch::Tensor mean_pooled_features(model::BertModel& encoder, const Dataset& data, std::int32_t pad_id,
                                   torch::Device device, std::int64_t batch_size) {
  c10::InferenceMode inference;
  std::vector<torch::Tensor> pooled;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const auto batch = collate(data, range(begin, std::min(begin + batch_size, data.size())), pad_id);
    const auto mask = batch.attention_mask.to(device);
    const auto hidden = encoder->forward(batch.input_ids.to(device), batch.token_type_ids.to(device), mask)
                            .last_hidden_state.to(torch::kFloat);
    const auto weights = mask.unsqueeze(-1).to(torch::kFloat);
    pooled.push_back(((hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)).to(torch::kCPU));
  }
  return torch::cat(pooled);
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
