#include "finetune/tagging/entity_metrics.h"

#include <algorithm>
#include <cstdio>

#include "finetune/tagging/tag_scheme.h"
#include "util/error.h"

namespace bf::ft::tagging {
namespace {

double ratio(std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

double f1_of(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

std::vector<Entity> entities_of(const std::vector<std::string>& tags, std::int64_t sentence, const char* side) {
  try {
    return extract_entities(tags);
  } catch (const bf::Error& e) {
    bf::fail("sentence " + std::to_string(sentence) + " (" + side + "): " + e.what());
  }
}

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", 100 * fraction);
  return buffer;
}

std::string padded(const std::string& s, std::size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

}  // namespace

void EntityCounter::add(const std::vector<std::string>& gold, const std::vector<std::string>& predicted) {
  const auto sentence = sentences_++;
  if (gold.size() != predicted.size())
    bf::fail("sentence " + std::to_string(sentence) + ": " + std::to_string(gold.size()) + " gold tags but " +
             std::to_string(predicted.size()) + " predicted");
  const auto g = entities_of(gold, sentence, "gold");
  const auto p = entities_of(predicted, sentence, "predicted");
  for (const auto& e : g) ++counts_[e.type].gold;
  for (const auto& e : p) ++counts_[e.type].predicted;
  // Entities of one sentence do not overlap and come in order: one merge pass.
  for (std::size_t i = 0, j = 0; i < g.size() && j < p.size();) {
    if (g[i] == p[j]) ++counts_[g[i].type].correct;
    if (g[i].start < p[j].start || (g[i].start == p[j].start && g[i].end <= p[j].end))
      ++i;
    else
      ++j;
  }
  for (std::size_t i = 0; i < gold.size(); ++i) correct_tokens_ += gold[i] == predicted[i] ? 1 : 0;
  tokens_ += static_cast<std::int64_t>(gold.size());
}

EntityScores EntityCounter::scores() const {
  EntityScores s;
  s.tokens = tokens_;
  s.correct_tokens = correct_tokens_;
  s.accuracy = ratio(correct_tokens_, tokens_);
  for (const auto& [type, c] : counts_) {
    TypeScores t;
    t.support = c.gold;
    t.predicted = c.predicted;
    t.correct = c.correct;
    t.precision = ratio(c.correct, c.predicted);
    t.recall = ratio(c.correct, c.gold);
    t.f1 = f1_of(t.precision, t.recall);
    s.per_type[type] = t;
    s.gold_entities += c.gold;
    s.predicted_entities += c.predicted;
    s.correct_entities += c.correct;
  }
  s.precision = ratio(s.correct_entities, s.predicted_entities);
  s.recall = ratio(s.correct_entities, s.gold_entities);
  s.f1 = f1_of(s.precision, s.recall);
  return s;
}

EntityScores score_entities(const std::vector<std::vector<std::string>>& gold,
                            const std::vector<std::vector<std::string>>& predicted) {
  if (gold.size() != predicted.size())
    bf::fail(std::to_string(gold.size()) + " gold sentences but " + std::to_string(predicted.size()) + " predicted");
  EntityCounter counter;
  for (std::size_t i = 0; i < gold.size(); ++i) counter.add(gold[i], predicted[i]);
  return counter.scores();
}

nlohmann::json EntityScores::to_json() const {
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [type, t] : per_type)
    types[type] = {{"precision", t.precision}, {"recall", t.recall}, {"f1", t.f1},
                   {"support", t.support},     {"predicted", t.predicted}, {"correct", t.correct}};
  return {{"precision", precision},
          {"recall", recall},
          {"f1", f1},
          {"accuracy", accuracy},
          {"per_type", types},
          {"tokens", tokens},
          {"gold_entities", gold_entities},
          {"predicted_entities", predicted_entities},
          {"correct_entities", correct_entities}};
}

std::string EntityScores::table() const {
  std::string out = "processed " + std::to_string(tokens) + " tokens with " + std::to_string(gold_entities) +
                    " phrases; found: " + std::to_string(predicted_entities) +
                    " phrases; correct: " + std::to_string(correct_entities) + ".\n";
  out += "accuracy: " + percent(accuracy) + "%; precision: " + percent(precision) + "%; recall: " + percent(recall) +
         "%; FB1: " + percent(f1) + "\n";
  std::size_t width = 4;
  for (const auto& entry : per_type) width = std::max(width, entry.first.size());
  char row[128];
  std::snprintf(row, sizeof row, "  %9s  %7s  %7s  %7s  %9s\n", "precision", "recall", "FB1", "support", "predicted");
  out += padded("type", width) + row;
  for (const auto& [type, t] : per_type) {
    std::snprintf(row, sizeof row, "  %8s%%  %6s%%  %7s  %7lld  %9lld\n", percent(t.precision).c_str(),
                  percent(t.recall).c_str(), percent(t.f1).c_str(), static_cast<long long>(t.support),
                  static_cast<long long>(t.predicted));
    out += padded(type, width) + row;
  }
  return out;
}

}  // namespace bf::ft::tagging
