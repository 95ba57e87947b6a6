#include "model/model_section.h"

#include <algorithm>

namespace bf::model {

bool ModelSection::is_given(const std::string& key) const {
  return std::find(given.begin(), given.end(), key) != given.end();
}

BertConfig ModelSection::resolve(std::int64_t vocab_size, std::int64_t pad_token_id) const {
  auto c = BertConfig::preset(preset);
  copy_fields(values, c, given);
  if (is_given("hidden_size") && !is_given("intermediate_size")) c.intermediate_size = 4 * c.hidden_size;
  c.vocab_size = vocab_size;
  c.pad_token_id = pad_token_id;
  c.architectures = {"BertForPreTraining"};
  c.validate("model");
  return c;
}

}  // namespace bf::model
