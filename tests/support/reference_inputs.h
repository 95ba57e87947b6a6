#pragma once
// The batch of ../shared/reference/tiny-pretrain/input.json as model inputs.
#include "io/batch_json.h"
#include "model/bert_for_pretraining.h"
#include "shared_data.h"

namespace bf::test {

inline model::PreTrainingInputs reference_pretrain_inputs() {
  auto batch = io::read_batch_json(shared_path("reference/tiny-pretrain/input.json"));
  model::PreTrainingInputs in;
  in.input_ids = batch.at("input_ids");
  in.token_type_ids = batch.at("token_type_ids");
  in.attention_mask = batch.at("attention_mask");
  in.mlm_labels = batch.at("masked_lm_labels");
  in.next_sentence_label = batch.at("next_sentence_label");
  return in;
}

}  // namespace bf::test
