#include "data/inspect_view.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>

#include "data/corpus_stats.h"
#include "data/manifest.h"
#include "data/pretrain_loader.h"
#include "data/sample_source.h"
#include "data/segmentation_counters.h"
#include "util/config_reader.h"
#include "util/error.h"

namespace bf::data {
namespace {

// The data config the shards were built with, with --set overrides. The
// recorded config holds both spellings of pair_task/nsp and
// mask_unit/whole_word_masking: an override of one replaces both.
DataConfig inspected_config(const Manifest& manifest, const std::string& dir,
                            const std::vector<std::string>& overrides) {
  YAML::Node root(YAML::NodeType::Map);
  root["data"] = manifest.config_yaml.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(manifest.config_yaml);
  const std::vector<std::vector<std::string>> spellings = {{"pair_task", "nsp"}, {"mask_unit", "whole_word_masking"}};
  for (const auto& item : overrides) {
    for (const auto& keys : spellings) {
      for (const auto& key : keys) {
        if (item.rfind("data." + key + "=", 0) != 0) continue;
        for (const auto& other : keys) root["data"].remove(other);
      }
    }
  }
  apply_overrides(root, overrides);
  return read_config_node<DataConfig>(root["data"], dir + "/manifest.json (config)");
}

std::string piece(const tok::Tokenizer* tokenizer, std::int32_t id) {
  return tokenizer ? tokenizer->id_to_token(id) : std::to_string(id);
}

// Pieces [begin, end) as one string: a space before each word start, a
// continuation's "##" dropped ("play ##ing" -> "playing").
std::string joined(const std::vector<std::int32_t>& ids, const std::vector<std::uint8_t>& word_starts,
                   std::size_t begin, std::size_t end, const tok::Tokenizer* tokenizer) {
  std::string text;
  for (std::size_t i = begin; i < end; ++i) {
    std::string p = piece(tokenizer, ids[i]);
    if (i > begin && word_starts[i]) text += " ";
    if (i > begin && !word_starts[i] && p.rfind("##", 0) == 0) p = p.substr(2);
    text += p;
  }
  return text;
}

}  // namespace

std::string pair_label_name(PairTask task, std::int32_t label) {
  if (task == PairTask::Nsp) return label == 1 ? "random" : label == 0 ? "is_next" : "none";
  if (task == PairTask::Sop) return label == 1 ? "swapped" : label == 0 ? "in_order" : "none";
  return "none";
}

std::string decoded_example(const Sample& s, const tok::Tokenizer* tokenizer, const tok::SpecialIds& special,
                            PairTask task, int index) {
  const Instance& inst = s.instance;
  std::string label = "no pair task (MLM only)";
  if (task == PairTask::Nsp) {
    label = inst.next_sentence_label == 1 ? "nsp label 1 = random (B from another document)"
                                          : "nsp label 0 = is_next (B follows A)";
  } else if (task == PairTask::Sop) {
    label = inst.next_sentence_label == 1 ? "sop label 1 = swapped (B came before A)"
                                          : "sop label 0 = in_order (B follows A)";
  }
  std::string text = "\n--- example " + std::to_string(index) + ": epoch " + std::to_string(s.epoch) + ", position " +
                     std::to_string(s.position) + ", " + std::to_string(inst.tokens.size()) + " tokens, " + label + "\n";
  text += "    A: document " + std::to_string(inst.a_doc) + " sentences [" + std::to_string(inst.a_first) + ", " +
          std::to_string(inst.a_end) + ")";
  if (inst.next_sentence_label != -100) {
    text += "   B: document " + std::to_string(inst.b_doc) + " sentences [" + std::to_string(inst.b_first) + ", " +
            std::to_string(inst.b_end) + ")";
  }
  text += "\n    ";
  // The original ids: the shown ones with the labels put back.
  std::vector<std::int32_t> original = inst.tokens;
  std::vector<std::uint8_t> masked(inst.tokens.size(), 0);
  for (std::size_t k = 0; k < s.masked_positions.size(); ++k) {
    const auto p = static_cast<std::size_t>(s.masked_positions[k]);
    original[p] = s.masked_labels[k];
    masked[p] = 1;
  }
  std::size_t groups = 0;
  for (std::size_t i = 0; i < inst.tokens.size();) {
    if (!masked[i]) {
      text += piece(tokenizer, inst.tokens[i]) + " ";
      ++i;
      continue;
    }
    std::size_t end = i;
    bool all_mask = true;
    for (; end < inst.tokens.size() && masked[end]; ++end) {
      if (inst.tokens[end] != special.mask) all_mask = false;
    }
    text += "[" + joined(original, inst.word_starts, i, end, tokenizer);
    if (!all_mask) text += "|" + joined(inst.tokens, inst.word_starts, i, end, tokenizer);
    text += "] ";
    ++groups;
    i = end;
  }
  text += "\n    " + std::to_string(s.masked_positions.size()) + " predictions in " + std::to_string(groups) +
          " groups ([x]: pieces x, all shown as [MASK]; [x|y]: x shown as y, kept or random)\n";
  return text;
}

nlohmann::json example_json(const Sample& s, const tok::Tokenizer* tokenizer, PairTask task, int index) {
  const Instance& inst = s.instance;
  nlohmann::json j;
  j["example"] = index;
  j["epoch"] = s.epoch;
  j["position"] = s.position;
  if (tokenizer) {
    std::vector<std::string> tokens;
    for (auto id : inst.tokens) tokens.push_back(tokenizer->id_to_token(id));
    j["tokens"] = tokens;
  }
  j["ids"] = inst.tokens;
  j["segment_ids"] = inst.segment_ids;
  j["word_starts"] = inst.word_starts;
  j["masked_positions"] = s.masked_positions;
  j["masked_labels"] = s.masked_labels;
  j["pair_task"] = pair_task_names().name(task);
  j["pair_label"] = inst.next_sentence_label;
  j["pair_label_name"] = pair_label_name(task, inst.next_sentence_label);
  return j;
}

void inspect_shards(const InspectOptions& args, std::FILE* out) {
  const Manifest manifest = Manifest::load(args.data);
  std::unique_ptr<tok::Tokenizer> tokenizer;
  const std::string tokenizer_dir = args.tokenizer.empty() ? manifest.tokenizer.dir : args.tokenizer;
  if (!tokenizer_dir.empty()) {
    try {
      tokenizer = tok::load_tokenizer(tokenizer_dir);
      manifest.check_tokenizer(TokenizerInfo::of(*tokenizer), args.data);
    } catch (const bf::Error& e) {
      spdlog::warn("cannot decode with the tokenizer at {} ({}); printing ids", tokenizer_dir, e.what());
      tokenizer.reset();
    }
  }
  const DataConfig config = inspected_config(manifest, args.data, args.overrides);
  LoaderOptions options = LoaderOptions::from_config(config, 1, static_cast<std::uint64_t>(args.seed), args.split);
  options.data_dir = args.data;
  options.num_threads = 0;
  PretrainLoader loader(options);
  const SampleSource& source = loader.source();
  const PairTask task = options.instances.pair_task;

  Sample sample;
  if (args.json) {
    const std::int64_t available = source.samples_in_epoch(0);
    for (int i = 0; i < args.n && i < available; ++i) {
      source.sample(0, i, sample);
      std::fprintf(out, "%s\n", example_json(sample, tokenizer.get(), task, i).dump().c_str());
    }
    return;
  }

  std::fprintf(out, "shards: %s (tokenizer %s, vocab %d, hash %s, %u-byte ids)\n", args.data.c_str(),
               manifest.tokenizer.type.c_str(), manifest.tokenizer.vocab_size, manifest.tokenizer.hash.c_str(),
               manifest.token_bytes);
  for (const char* name : {"train", "heldout"}) {
    const SplitInfo& s = manifest.split(name);
    std::fprintf(out, "  %-8s %8lld documents %10lld sentences %12lld tokens  %zu shard(s)  %.1f tokens/sentence\n",
                 name, static_cast<long long>(s.documents), static_cast<long long>(s.sentences),
                 static_cast<long long>(s.tokens), s.shards.size(),
                 s.sentences ? static_cast<double>(s.tokens) / s.sentences : 0.0);
  }
  std::fprintf(out, "  input: %s\n", manifest.input_stats.dump().c_str());
  const std::string segmentation = describe_segmentation(manifest.segmentation);
  if (!segmentation.empty()) std::fprintf(out, "  segmentation: %s\n", segmentation.c_str());
  const SequenceStats stats = measure_sequences(source, 0, args.stats_samples);
  std::string masking = mask_unit_names().name(options.masking.mask_unit);
  if (options.masking.mask_unit == MaskUnit::Span) {
    masking += fmt::format(" (p {:g}, at most {} words)", options.masking.span_p, options.masking.span_max_words);
  } else if (options.masking.mask_unit == MaskUnit::Ngram) {
    masking += " (n <= " + std::to_string(options.masking.ngram_max) + ")";
  }
  std::fprintf(out, "sequences (%s split, max_seq_length %d, pair_task %s, %s masking, mask_unit %s):\n",
               args.split.c_str(), options.instances.max_seq_length, pair_task_names().name(task).c_str(),
               options.masking.static_masking ? "static" : "dynamic", masking.c_str());
  std::string pair_share;
  if (task != PairTask::None) {
    pair_share = fmt::format(", {} {:.1f}%", task == PairTask::Sop ? "swapped" : "random B",
                             100.0 * stats.random_next_share);
  }
  std::fprintf(out,
               "  %lld per epoch; measured on %lld: average length %.1f tokens, average fill %.1f%%, "
               "%.2f predictions%s\n",
               static_cast<long long>(stats.samples_per_epoch), static_cast<long long>(stats.measured),
               stats.average_length, 100.0 * stats.average_fill, stats.average_masked, pair_share.c_str());
  for (int i = 0; i < args.n && i < stats.samples_per_epoch; ++i) {
    source.sample(0, i, sample);
    std::fprintf(out, "%s", decoded_example(sample, tokenizer.get(), source.tokenizer().special, task, i).c_str());
  }
}

}  // namespace bf::data
