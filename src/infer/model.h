#pragma once
// A model at work: a model directory opened once (config.json, the head it
// holds, the tokenizer checked against the hash it was saved with, the
// weights, the device, eval mode, the data settings it was trained with), or
// a model in memory (a fine-tuning task's, nothing read). Requests go through
// the one batching loop (infer/batches.h); what a head's answers mean is its
// task's (finetune/classify, finetune/tagging, finetune/qa), embeddings are
// infer/embed.h.
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/any_bert.h"
#include "model/bert_config.h"
#include "model/bert_for_question_answering.h"
#include "model/bert_for_sequence_classification.h"
#include "model/bert_for_token_classification.h"
#include "model/bert_model.h"
#include "tokenizer/tokenizer.h"

namespace bf::infer {

// A forward's outputs, by head.
struct Outputs {
  torch::Tensor logits;                      // sequence [B, C] or token classification [B, S, C]
  torch::Tensor start_logits, end_logits;    // question answering [B, S]
  std::vector<torch::Tensor> hidden_states;  // the encoder: embeddings, then each layer, [B, S, H] each
};

// The settings a fine-tuning run read its data with (config.json's
// "bertforge_data"): written by the run, read back by evaluate, predict and
// the server so that they read new text as training did. Each task parses its
// own keys; this is the one place the block is read and written.
nlohmann::json data_settings_of(const model::BertConfig& config);
void store_data_settings(model::BertConfig& config, nlohmann::json settings);

class Model {
 public:
  using Net = std::variant<model::BertForSequenceClassification, model::BertForTokenClassification,
                           model::BertForQuestionAnswering, model::BertModel>;

  // Opens dir as the head its config.json names (architectures), or with
  // `as` Encoder: the encoder of any model directory (pooler optional), for
  // embeddings and probes. A head's weights must all be in the file.
  static Model open(const std::string& dir, torch::Device device = torch::kCPU,
                    std::optional<model::Architecture> as = std::nullopt);

  // A model in memory: nothing is read, the mode is left to the loop. Without
  // a tokenizer (an encoder probed on examples already tokenized) padding
  // uses config.pad_token_id.
  Model(model::BertConfig config, std::shared_ptr<const tok::Tokenizer> tokenizer, Net net, torch::Device device);

  model::Architecture architecture() const { return architecture_; }
  const model::BertConfig& config() const { return config_; }
  const tok::Tokenizer& tokenizer() const;
  std::int32_t pad_id() const { return pad_id_; }
  const nlohmann::json& data_settings() const { return data_settings_; }
  torch::Device device() const { return device_; }
  const std::string& dir() const { return dir_; }  // "" in memory
  // Weights the directory lacked (the encoder's pooler, when opened as one).
  const std::vector<std::string>& missing_weights() const { return missing_; }
  torch::nn::Module& module();

  template <class M>
  M& net() {
    if (auto* m = std::get_if<M>(&net_)) return *m;
    wrong_head();
  }

  // One forward of a padded batch; hidden states only for the encoder.
  Outputs forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                  const torch::Tensor& attention_mask);

 private:
  [[noreturn]] void wrong_head() const;

  model::BertConfig config_;
  model::Architecture architecture_ = model::Architecture::Encoder;
  std::shared_ptr<const tok::Tokenizer> tokenizer_;
  Net net_;
  torch::Device device_;
  std::int32_t pad_id_ = 0;
  nlohmann::json data_settings_;
  std::string dir_;
  std::vector<std::string> missing_;
};

}  // namespace bf::infer
