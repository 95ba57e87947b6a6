#pragma once
// The `model:` section of a run config: a preset plus any architecture field
// of config.json to override (BertConfig::visit_fields, kOverridable). The
// vocabulary size and pad id always come from the tokenizer, never from here.
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/bert_config.h"
#include "util/config_reader.h"

namespace bf::model {

struct ModelSection {
  std::string preset = "mini";
  std::string init_from;          // a model directory or checkpoint: weights only, new schedule
  BertConfig values;              // the overriding values
  std::vector<std::string> given; // which fields the config sets

  template <class V>
  void visit(V& v) {
    v.field("preset", preset, one_of(BertConfig::preset_names()));
    v.field("init_from", init_from);
    BertConfig::visit_fields(values, [&](const char* key, auto& value, unsigned uses) {
      if (!(uses & kOverridable)) return;
      std::optional<std::decay_t<decltype(value)>> set;
      if (is_given(key)) set = value;
      v.field(key, set);
      if (set) {
        value = *set;
        if (!is_given(key)) given.push_back(key);
      }
    });
  }

  bool is_given(const std::string& key) const;
  // The preset with the overrides applied (intermediate_size follows a new
  // hidden_size as 4x unless given), sized for this vocabulary.
  BertConfig resolve(std::int64_t vocab_size, std::int64_t pad_token_id) const;
};

}  // namespace bf::model
