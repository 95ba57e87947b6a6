#include "infer/model.h"

#include "io/hf_model.h"
#include "util/error.h"

namespace bf::infer {
namespace {

Model::Net make_net(const model::BertConfig& config, model::Architecture architecture, const std::string& dir) {
  switch (architecture) {
    case model::Architecture::SequenceClassification: return model::BertForSequenceClassification(config);
    case model::Architecture::TokenClassification: return model::BertForTokenClassification(config);
    case model::Architecture::QuestionAnswering: return model::BertForQuestionAnswering(config);
    case model::Architecture::Encoder: return model::BertModel(config, /*add_pooling_layer=*/true);
    case model::Architecture::PreTraining: break;
  }
  bf::fail(dir + ": a pretraining model has no task head (config.json architectures: " +
           model::architecture_name(architecture) + "); fine-tune it first with bertforge finetune");
}

}  // namespace

nlohmann::json data_settings_of(const model::BertConfig& config) {
  if (config.extra.is_object() && config.extra.contains("bertforge_data")) return config.extra["bertforge_data"];
  return nlohmann::json::object();
}

void store_data_settings(model::BertConfig& config, nlohmann::json settings) {
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  config.extra["bertforge_data"] = std::move(settings);
}

Model Model::open(const std::string& dir, torch::Device device, std::optional<model::Architecture> as) {
  auto config = io::load_model_config(dir);
  const auto architecture = as ? *as : model::architecture_of(config);
  auto net = make_net(config, architecture, dir);
  std::shared_ptr<const tok::Tokenizer> tokenizer = io::load_model_tokenizer(dir, config);
  Model m(std::move(config), std::move(tokenizer), std::move(net), device);
  m.dir_ = dir;
  m.architecture_ = architecture;
  const auto report = io::load_weights(m.module(), io::find_weights_file(dir));
  m.missing_ = report.missing;
  if (architecture != model::Architecture::Encoder && !report.missing.empty())
    bf::fail(dir + ": weights do not match the model: " + report.summary());
  for (const auto& name : report.missing)
    if (name.rfind("pooler.", 0) != 0) bf::fail(dir + ": the encoder weights are incomplete (missing " + name + ")");
  m.module().to(device);
  m.module().eval();
  return m;
}

Model::Model(model::BertConfig config, std::shared_ptr<const tok::Tokenizer> tokenizer, Net net, torch::Device device)
    : config_(std::move(config)), tokenizer_(std::move(tokenizer)), net_(std::move(net)), device_(device) {
  std::visit(
      [this](auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, model::BertForSequenceClassification>) {
          architecture_ = model::Architecture::SequenceClassification;
        } else if constexpr (std::is_same_v<N, model::BertForTokenClassification>) {
          architecture_ = model::Architecture::TokenClassification;
        } else if constexpr (std::is_same_v<N, model::BertForQuestionAnswering>) {
          architecture_ = model::Architecture::QuestionAnswering;
        } else {
          architecture_ = model::Architecture::Encoder;
        }
      },
      net_);
  data_settings_ = data_settings_of(config_);
  pad_id_ = tokenizer_ ? tokenizer_->special_ids().pad : static_cast<std::int32_t>(config_.pad_token_id);
}

const tok::Tokenizer& Model::tokenizer() const {
  if (!tokenizer_) bf::fail("this model was given no tokenizer");
  return *tokenizer_;
}

torch::nn::Module& Model::module() {
  return std::visit([](auto& n) -> torch::nn::Module& { return *n; }, net_);
}

void Model::wrong_head() const {
  bf::fail((dir_.empty() ? std::string("the model") : dir_) + " is a " + model::architecture_name(architecture_) +
           ", not the head this request needs");
}

Outputs Model::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                       const torch::Tensor& attention_mask) {
  Outputs out;
  std::visit(
      [&](auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, model::BertForQuestionAnswering>) {
          auto r = n->forward(input_ids, token_type_ids, attention_mask);
          out.start_logits = r.start_logits;
          out.end_logits = r.end_logits;
        } else if constexpr (std::is_same_v<N, model::BertModel>) {
          out.hidden_states = n->forward(input_ids, token_type_ids, attention_mask, /*output_hidden_states=*/true).hidden_states;
        } else {
          out.logits = n->forward(input_ids, token_type_ids, attention_mask).logits;
        }
      },
      net_);
  return out;
}

}  // namespace bf::infer
