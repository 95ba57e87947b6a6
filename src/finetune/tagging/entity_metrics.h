#pragma once
// Entity-level precision, recall and F1 as conlleval computes them, so the
// numbers compare with published NER results: an entity counts as correct
// only when its type and both boundaries match a gold entity; scores are
// micro-averaged over types; a ratio with nothing to divide by is 0.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bf::ft::tagging {

struct TypeScores {
  double precision = 0, recall = 0, f1 = 0;
  std::int64_t support = 0;    // gold entities of the type
  std::int64_t predicted = 0;  // predicted entities of the type
  std::int64_t correct = 0;
};

struct EntityScores {
  double precision = 0, recall = 0, f1 = 0;  // fractions, 0..1
  double accuracy = 0;                       // conlleval's: equal tags over all tokens, O included
  std::int64_t tokens = 0, correct_tokens = 0;
  std::int64_t gold_entities = 0, predicted_entities = 0, correct_entities = 0;
  std::map<std::string, TypeScores> per_type;  // every type seen in gold or predictions, sorted

  // {precision, recall, f1, accuracy, per_type: {TYPE: {precision, recall,
  // f1, support, predicted}}, tokens, gold_entities, predicted_entities,
  // correct_entities}
  nlohmann::json to_json() const;
  // conlleval's summary lines and one row per type, for the CLI.
  std::string table() const;
};

// Counts sentence by sentence, so an evaluation can stream its predictions.
// Tags are IOB2 or IOB1 (see extract_entities); a sentence boundary ends
// every entity.
class EntityCounter {
 public:
  // Throws bf::Error when the lengths differ or a tag is not O, B-X or I-X.
  void add(const std::vector<std::string>& gold, const std::vector<std::string>& predicted);
  EntityScores scores() const;

 private:
  struct Counts {
    std::int64_t gold = 0, predicted = 0, correct = 0;
  };
  std::map<std::string, Counts> counts_;
  std::int64_t tokens_ = 0, correct_tokens_ = 0, sentences_ = 0;
};

EntityScores score_entities(const std::vector<std::vector<std::string>>& gold,
                            const std::vector<std::vector<std::string>>& predicted);

}  // namespace bf::ft::tagging
