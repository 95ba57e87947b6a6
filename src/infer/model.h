#pragma once
// A model at work: a model directory opened once (config.json, the head it
// holds, the tokenizer checked against the hash it was saved with, the
// weights, the device, eval mode, the data settings it was trained with), or
// a model in memory (a fine-tuning task's, nothing read). Requests go through
// the one batching loop (infer/batches.h); what a head's answers mean is its
// task's (finetune/classify, finetune/tagging, finetune/qa), embeddings are
// infer/embed.h.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/any_bert.h"
#include "model/bert_config.h"
#include "model/bert_model.h"
#include "tokenizer/tokenizer.h"

namespace bf::infer {

// A forward's outputs, by head.
struct Outputs {
  torch::Tensor logits;                      // sequence [B, C] or token classification [B, S, C]
  torch::Tensor start_logits, end_logits;    // question answering [B, S]
  std::vector<torch::Tensor> hidden_states;  // the encoder: embeddings, then each layer, [B, S, H] each
  torch::Tensor pooler_output;               // the encoder's pooler on [CLS], [B, H]; undefined without one
};

// Which network a forward runs: the model's head, or the encoder inside it
// (embeddings of any model, fine-tuned ones included).
enum class Pass { Head, Encoder };

// The arithmetic of a forward: fp32; bf16 autocast (fp32 weights; fast where
// the CPU has AVX512_BF16/AMX); int8 dynamic quantization of the linear layers.
enum class Precision { Fp32, Bf16, Int8 };
// fp32 | bf16 | int8; an error naming `key` otherwise.
Precision parse_precision(const std::string& name, const std::string& key = "--precision");
std::string precision_name(Precision precision);

// How one kind of network is built and run: its module for a config, and a
// forward that gives its outputs. The fine-tuning task table
// (finetune/tasks.cpp) holds one per head; the encoder's is encoder_head().
struct Head {
  model::Architecture architecture = model::Architecture::Encoder;
  std::function<std::shared_ptr<torch::nn::Module>(const model::BertConfig&)> make;
  std::function<Outputs(torch::nn::Module& net, const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& attention_mask)>
      forward;
  bool every_weight = true;  // false for the encoder of a model directory: its pooler may be missing
  // The encoder inside the network (the network itself for encoder_head()).
  std::function<model::BertModel(torch::nn::Module& net)> encoder;
};

// A network whose forward(input_ids, token_type_ids, attention_mask) returns
// `.logits` (sequence and token classification) or `.start_logits` and
// `.end_logits` (extractive QA).
template <class Net>
Head logits_head(model::Architecture architecture);
template <class Net>
Head span_head(model::Architecture architecture);
// model::BertModel (with a pooler): every hidden state.
Head encoder_head();

// The settings a fine-tuning run read its data with (config.json's
// "bertforge_data"): written by the run, read back by evaluate, predict and
// the server so that they read new text as training did. Each task parses its
// own keys; this is the one place the block is read and written.
nlohmann::json data_settings_of(const model::BertConfig& config);
void store_data_settings(model::BertConfig& config, nlohmann::json settings);

class Model {
 public:
  // The head of a directory's architecture (config.json's `architectures`);
  // an error naming `dir` when there is none.
  using HeadOf = std::function<Head(model::Architecture architecture, const std::string& dir)>;

  // Opens dir as its head; every weight of a head must be in the file.
  static Model open(const std::string& dir, const HeadOf& head_of, torch::Device device = torch::kCPU);
  // The encoder of any model directory (pretrained or fine-tuned, pooler
  // optional), for embeddings and probes.
  static Model open_encoder(const std::string& dir, torch::Device device = torch::kCPU);

  // A model in memory: nothing is read, the mode is left to the loop. Without
  // a tokenizer (an encoder probed on examples already tokenized) padding
  // uses config.pad_token_id.
  Model(model::BertConfig config, std::shared_ptr<const tok::Tokenizer> tokenizer, Head head,
        std::shared_ptr<torch::nn::Module> net, torch::Device device);

  model::Architecture architecture() const { return head_.architecture; }
  const model::BertConfig& config() const { return config_; }
  const tok::Tokenizer& tokenizer() const;
  std::int32_t pad_id() const { return pad_id_; }
  const nlohmann::json& data_settings() const { return data_settings_; }
  torch::Device device() const { return device_; }
  const std::string& dir() const { return dir_; }  // "" in memory
  // Weights the directory lacked (the encoder's pooler, when opened as one).
  const std::vector<std::string>& missing_weights() const { return missing_; }
  torch::nn::Module& module() { return *net_; }

  // The network as its class, e.g. net<model::BertModel>().
  template <class Net>
  Net net() const {
    auto impl = std::dynamic_pointer_cast<typename Net::ContainedType>(net_);
    if (!impl) wrong_head();
    return Net(impl);
  }

  // The encoder inside the network, for embeddings of any model.
  model::BertModel encoder();

  // fp32 unless set; set before the first forward (int8 converts the weights).
  void set_precision(Precision precision);
  Precision precision() const { return precision_; }

  // One forward of a padded batch already on the model's device, in the
  // model's precision. Pass::Encoder fills hidden_states and pooler_output.
  Outputs forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                  const torch::Tensor& attention_mask, Pass pass = Pass::Head);

 private:
  static Model open_as(const std::string& dir, model::BertConfig config, Head head, torch::Device device);
  [[noreturn]] void wrong_head() const;

  model::BertConfig config_;
  std::shared_ptr<const tok::Tokenizer> tokenizer_;
  Head head_;
  std::shared_ptr<torch::nn::Module> net_;
  torch::Device device_;
  std::int32_t pad_id_ = 0;
  nlohmann::json data_settings_;
  std::string dir_;
  std::vector<std::string> missing_;
  Precision precision_ = Precision::Fp32;
};

// A head for Net whose forward's result `fill` copies into Outputs.
template <class Net, class Fill>
Head head_for(model::Architecture architecture, Fill fill) {
  Head head;
  head.architecture = architecture;
  head.make = [](const model::BertConfig& config) -> std::shared_ptr<torch::nn::Module> { return Net(config).ptr(); };
  head.encoder = [](torch::nn::Module& net) { return dynamic_cast<typename Net::ContainedType&>(net).bert; };
  head.forward = [fill](torch::nn::Module& net, const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& attention_mask) {
    Outputs out;
    fill(dynamic_cast<typename Net::ContainedType&>(net).forward(input_ids, token_type_ids, attention_mask), out);
    return out;
  };
  return head;
}

template <class Net>
Head logits_head(model::Architecture architecture) {
  return head_for<Net>(architecture, [](const auto& result, Outputs& out) { out.logits = result.logits; });
}

template <class Net>
Head span_head(model::Architecture architecture) {
  return head_for<Net>(architecture, [](const auto& result, Outputs& out) {
    out.start_logits = result.start_logits;
    out.end_logits = result.end_logits;
  });
}

}  // namespace bf::infer
