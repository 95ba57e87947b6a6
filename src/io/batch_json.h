#pragma once
// A model input batch written as JSON, the format of shared/reference/*/input.json:
// {"input_ids": [[...]], "token_type_ids": ..., "attention_mask": ...,
//  "masked_lm_labels": ..., "next_sentence_label": [...], "labels": [...]}.
#include <torch/torch.h>

#include <map>
#include <string>

namespace bf::io {

// Every key becomes an int64 tensor, or a float32 tensor when any value is
// written as a JSON float (regression or multi-label targets). Ragged lists
// are an error naming the key.
std::map<std::string, torch::Tensor> read_batch_json(const std::string& path);

}  // namespace bf::io
