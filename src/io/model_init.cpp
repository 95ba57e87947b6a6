#include "io/model_init.h"

#include <torch/torch.h>

#include <memory>

#include "io/hf_model.h"
#include "model/any_bert.h"
#include "model/bert_config.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace bf::io {

std::int64_t init_model_dir(const ModelInitOptions& o) {
  auto config = model::BertConfig::preset(o.preset);
  std::unique_ptr<tok::Tokenizer> tokenizer;
  if (!o.tokenizer.empty()) {
    tokenizer = tok::load_tokenizer(o.tokenizer);
    // The tokenizer is the one place the vocabulary size lives.
    config.vocab_size = tokenizer->vocab_size();
    config.pad_token_id = tokenizer->special_ids().pad;
  }
  if (o.vocab_size > 0) {
    if (tokenizer && o.vocab_size != config.vocab_size)
      bf::fail("--vocab-size " + std::to_string(o.vocab_size) + " contradicts the tokenizer's vocab size " +
               std::to_string(config.vocab_size));
    config.vocab_size = o.vocab_size;
  }
  if (o.num_labels > 0) config.num_labels = o.num_labels;
  const auto arch = model::parse_architecture(o.arch);
  config.architectures = {model::architecture_name(arch)};
  config.validate("--preset " + o.preset);
  torch::manual_seed(static_cast<std::uint64_t>(o.seed));
  auto net = model::make_model(config, arch);
  io::save_model_dir(o.out, *net, config, tokenizer.get());
  std::int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  return params;
}

}  // namespace bf::io
