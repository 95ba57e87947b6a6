#include "io/hf_model.h"

#include <filesystem>
#include <map>
#include <set>

#include "io/safetensors.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::io {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// transformers renames legacy TF-era LayerNorm names when it loads.
std::string modern_name(std::string name) {
  if (ends_with(name, ".gamma")) return name.substr(0, name.size() - 6) + ".weight";
  if (ends_with(name, ".beta")) return name.substr(0, name.size() - 5) + ".bias";
  return name;
}

// Keys that carry no independent data: the position-id buffer and the decoder
// tensors tied to the word embeddings and to cls.predictions.bias.
bool is_derived_key(const std::string& name) {
  return ends_with(name, "embeddings.position_ids") || name == "cls.predictions.decoder.weight" ||
         name == "cls.predictions.decoder.bias";
}

std::vector<std::pair<std::string, torch::Tensor>> read_weights_file(const std::string& path) {
  if (ends_with(path, ".safetensors")) return SafetensorsReader(path).load_all();
  if (ends_with(path, ".bin") || ends_with(path, ".pt")) {
    std::vector<char> bytes;
    {
      const std::string data = bf::read_file(path);
      bytes.assign(data.begin(), data.end());
    }
    c10::IValue value;
    try {
      value = torch::pickle_load(bytes);
    } catch (const c10::Error& e) {
      bf::fail(path + ": cannot read as a torch.save state dict: " + e.what_without_backtrace());
    }
    // LibTorch 1.13's unpickler turns the OrderedDict that torch.save(state_dict)
    // writes into None, so such files cannot be read here.
    if (value.isNone())
      bf::fail(path + ": a Python torch.save state dict, which LibTorch 1.13 cannot read; convert it once with "
               "safetensors.torch.save_file(torch.load(\"" + path + "\"), \"model.safetensors\")");
    if (!value.isGenericDict()) bf::fail(path + ": expected a state dict (a mapping of names to tensors)");
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& item : value.toGenericDict()) {
      if (!item.key().isString() || !item.value().isTensor()) continue;
      out.emplace_back(item.key().toStringRef(), item.value().toTensor());
    }
    return out;
  }
  bf::fail(path + ": unknown weights format (expected .safetensors or .bin)");
}

}  // namespace

std::string LoadReport::summary() const {
  std::string s = std::to_string(loaded.size()) + " tensors loaded";
  auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (!missing.empty()) s += "; missing (left as initialised): " + list(missing);
  if (!unexpected.empty()) s += "; unexpected (ignored): " + list(unexpected);
  return s;
}

std::vector<std::pair<std::string, torch::Tensor>> model_state(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : model.named_buffers(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

namespace {

LoadReport copy_weights(torch::nn::Module& model, std::vector<std::pair<std::string, torch::Tensor>> tensors,
                        const std::string& weights_file) {
  std::map<std::string, torch::Tensor> targets;
  for (auto& [name, tensor] : model_state(model)) targets.emplace(name, tensor);
  const bool model_has_bert_prefix = targets.count("bert.embeddings.word_embeddings.weight") != 0;

  std::map<std::string, torch::Tensor> source;
  for (auto& [raw_name, tensor] : tensors) {
    std::string name = modern_name(raw_name);
    // A bare BertModel's keys have no "bert." prefix; a task model's do.
    if (model_has_bert_prefix && !targets.count(name) && targets.count("bert." + name)) name = "bert." + name;
    if (!model_has_bert_prefix && starts_with(name, "bert.") && targets.count(name.substr(5))) name = name.substr(5);
    source[name] = tensor;
  }
  // Old checkpoints may carry the MLM output bias only as the decoder bias.
  if (!source.count("cls.predictions.bias") && source.count("cls.predictions.decoder.bias"))
    source["cls.predictions.bias"] = source["cls.predictions.decoder.bias"];

  LoadReport report;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto it = source.find(name);
    if (it == source.end()) {
      report.missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != target.sizes())
      bf::fail(weights_file + ": tensor '" + name + "' has shape " + c10::str(it->second.sizes()) +
               " but the model expects " + c10::str(target.sizes()) +
               " (was this file saved from a model with another config?)");
    target.copy_(it->second);
    report.loaded.push_back(name);
  }
  for (const auto& [name, tensor] : source)
    if (!targets.count(name) && !is_derived_key(name)) report.unexpected.push_back(name);
  return report;
}

}  // namespace

LoadReport load_weights(torch::nn::Module& model, const std::string& weights_file) {
  return copy_weights(model, read_weights_file(weights_file), weights_file);
}

LoadReport load_weights(torch::nn::Module& model, const SafetensorsReader& weights) {
  return copy_weights(model, weights.load_all(), weights.path());
}

std::string find_weights_file(const std::string& model_dir) {
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    const auto path = (fs::path(model_dir) / name).string();
    if (bf::path_exists(path)) return path;
  }
  bf::fail(model_dir + ": no model.safetensors or pytorch_model.bin in this model directory");
}

namespace {

// A config.json from a stranger must not make us allocate more than its
// weights file can hold: the embeddings and encoder layers it describes need
// at least this many bytes (2 per parameter, the smallest dtype we load).
void check_config_fits_weights(const model::BertConfig& c, const std::string& config_path,
                               const std::string& weights_path, std::uint64_t size) {
  const double h = static_cast<double>(c.hidden_size), i = static_cast<double>(c.intermediate_size);
  const double embeddings =
      (static_cast<double>(c.vocab_size) + static_cast<double>(c.max_position_embeddings) +
       static_cast<double>(c.type_vocab_size)) * h;
  const double layers = static_cast<double>(c.num_hidden_layers) * (4.0 * h * h + 2.0 * h * i);
  const double min_bytes = 2.0 * (embeddings + layers);
  if (min_bytes > static_cast<double>(size))
    bf::fail(config_path + ": its sizes (vocab_size " + std::to_string(c.vocab_size) + ", hidden_size " +
             std::to_string(c.hidden_size) + ", " + std::to_string(c.num_hidden_layers) +
             " layers, intermediate_size " + std::to_string(c.intermediate_size) + ") need at least " +
             std::to_string(static_cast<long long>(min_bytes / 1e6)) + " MB of weights, but " + weights_path +
             " has " + std::to_string(size) + " bytes: the config does not belong to these weights");
}

}  // namespace

model::BertConfig parse_model_config(std::string_view json_text, const std::string& config_path,
                                     const std::string& weights_path, std::uint64_t weights_bytes) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    bf::fail(config_path + ": invalid JSON: " + e.what());
  }
  auto config = model::BertConfig::from_json(j, config_path);
  check_config_fits_weights(config, config_path, weights_path, weights_bytes);
  return config;
}

model::BertConfig load_model_config(const std::string& model_dir) {
  const auto path = (fs::path(model_dir) / "config.json").string();
  if (!bf::path_exists(path)) bf::fail(model_dir + ": no config.json (is this a model directory?)");
  auto config = model::BertConfig::load(path);
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    const auto weights = (fs::path(model_dir) / name).string();
    std::error_code ec;
    const auto size = fs::file_size(weights, ec);
    if (!ec) {  // else the weights loader reports an unreadable file itself
      check_config_fits_weights(config, path, weights, size);
      break;
    }
  }
  return config;
}

void save_model_dir(const std::string& dir, const torch::nn::Module& model, const model::BertConfig& config,
                    const tok::Tokenizer* tokenizer) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) bf::fail(dir + ": cannot create model directory: " + ec.message());
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (auto& [name, tensor] : model_state(model))
    if (!is_derived_key(name)) tensors.emplace_back(name, tensor);
  save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
  model::BertConfig saved = config;
  if (tokenizer != nullptr) {
    if (tokenizer->vocab_size() != config.vocab_size)
      bf::fail(dir + ": the tokenizer has " + std::to_string(tokenizer->vocab_size()) + " tokens but the model's " +
               "vocab_size is " + std::to_string(config.vocab_size));
    tokenizer->save(dir);
    saved.extra["bertforge_tokenizer"] = {
        {"type", tokenizer->type()}, {"hash", tokenizer->content_hash()}, {"vocab_size", tokenizer->vocab_size()}};
  }
  saved.save((fs::path(dir) / "config.json").string());
}

std::unique_ptr<tok::Tokenizer> load_model_tokenizer(const std::string& model_dir, const model::BertConfig& config) {
  auto tokenizer = tok::load_tokenizer(model_dir);
  auto it = config.extra.find("bertforge_tokenizer");
  if (it != config.extra.end() && it->is_object()) {
    tok::check_tokenizer_matches(*tokenizer, it->value("hash", std::string()),
                                 static_cast<std::int32_t>(it->value("vocab_size", std::int64_t{0})), model_dir);
  }
  if (tokenizer->vocab_size() != config.vocab_size)
    bf::fail(model_dir + ": the tokenizer has " + std::to_string(tokenizer->vocab_size()) +
             " tokens but config.json says vocab_size " + std::to_string(config.vocab_size) +
             ": this model and tokenizer do not belong together");
  return tokenizer;
}

}  // namespace bf::io
