#include "finetune/tagging/tagger.h"

#include <algorithm>

#include "finetune/batch_plan.h"
#include "io/hf_model.h"
#include "model/any_bert.h"
#include "util/error.h"

namespace bf::ft {

WindowBatch collate_windows(const std::vector<WordWindow>& windows, const std::vector<std::int64_t>& index,
                            std::int32_t pad_id) {
  std::int64_t longest = 0;
  bool labelled = true;
  for (auto i : index) {
    const auto& w = windows[static_cast<std::size_t>(i)];
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(w.input_ids.size()));
    labelled = labelled && !w.labels.empty();
  }
  const auto n = static_cast<std::int64_t>(index.size());
  auto ids = torch::full({n, longest}, static_cast<std::int64_t>(pad_id), torch::kLong);
  auto mask = torch::zeros({n, longest}, torch::kLong);
  auto labels = torch::full({n, longest}, kIgnoredLabel, torch::kLong);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  auto labels_a = labels.accessor<std::int64_t, 2>();
  WindowBatch b;
  for (std::int64_t r = 0; r < n; ++r) {
    const auto& w = windows[static_cast<std::size_t>(index[static_cast<std::size_t>(r)])];
    for (std::size_t p = 0; p < w.input_ids.size(); ++p) {
      const auto col = static_cast<std::int64_t>(p);
      ids_a[r][col] = w.input_ids[p];
      mask_a[r][col] = 1;
      if (labelled) {
        labels_a[r][col] = w.labels[p];
        if (w.labels[p] != kIgnoredLabel) ++b.labelled;
      }
    }
  }
  b.input_ids = ids;
  b.attention_mask = mask;
  if (labelled) b.labels = labels;
  return b;
}

void TaggingSettings::store_in(model::BertConfig& config) const {
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  config.extra["bertforge_data"] = {{"task", "token_classification"},
                                    {"format", format},
                                    {"tag_scheme", tag_scheme_name(scheme)},
                                    {"max_seq_length", windows.max_seq_length},
                                    {"window_stride", windows.stride},
                                    {"label_all_pieces", windows.label_all_pieces}};
}

TaggingSettings TaggingSettings::of(const model::BertConfig& config) {
  TaggingSettings s;
  const auto saved = config.extra.is_object() && config.extra.contains("bertforge_data") ? config.extra["bertforge_data"]
                                                                                          : nlohmann::json::object();
  try {
    s.format = saved.value("format", s.format);
    s.scheme = parse_tag_scheme(saved.value("tag_scheme", std::string("iob2")));
    s.windows.max_seq_length = saved.value("max_seq_length", s.windows.max_seq_length);
    s.windows.stride = saved.value("window_stride", s.windows.stride);
    s.windows.label_all_pieces = saved.value("label_all_pieces", s.windows.label_all_pieces);
  } catch (const nlohmann::json::exception& e) {
    bf::fail(std::string("config.json: bertforge_data: ") + e.what());
  }
  return s;
}

WindowedSentences window_sentences(const std::vector<TaggedSentence>& sentences, const tok::Tokenizer& tokenizer,
                                   const WindowOptions& options, const LabelMap* labels) {
  WindowedSentences out;
  for (const auto& sentence : sentences) {
    out.first_window.push_back(static_cast<std::int64_t>(out.windows.size()));
    std::vector<std::int64_t> word_labels;
    if (labels != nullptr && !sentence.tags.empty()) {
      // A tag the label map lacks (a type the training file never had) is
      // left out of the loss; the metrics still count it as gold.
      for (const auto& tag : sentence.tags) {
        const auto id = labels->id(tag);
        if (id < 0) ++out.unknown_tags;
        word_labels.push_back(id < 0 ? kIgnoredLabel : id);
      }
    }
    std::int64_t truncated = 0;
    const auto pieces = word_pieces(sentence.tokens, tokenizer, options.max_seq_length - 2, &truncated);
    out.truncated_words += truncated;
    for (auto& w : make_windows(pieces, tokenizer.special_ids(), word_labels, options)) out.windows.push_back(std::move(w));
  }
  out.first_window.push_back(static_cast<std::int64_t>(out.windows.size()));
  return out;
}

WindowPredictions predict_windows(model::BertForTokenClassification& model, const std::vector<WordWindow>& windows,
                                  const std::vector<std::int64_t>& which, std::int64_t batch_size, std::int32_t pad_id,
                                  torch::Device device) {
  WindowPredictions out;
  out.labels.resize(which.size());
  std::vector<std::int64_t> lengths;
  for (auto i : which) lengths.push_back(static_cast<std::int64_t>(windows[static_cast<std::size_t>(i)].input_ids.size()));
  for (const auto& local : plan_by_length(lengths, batch_size)) {
    std::vector<std::int64_t> index;
    for (auto k : local) index.push_back(which[static_cast<std::size_t>(k)]);
    auto b = collate_windows(windows, index, pad_id);
    auto result = model->forward(b.input_ids.to(device), {}, b.attention_mask.to(device));
    if (b.labels.defined()) {
      const auto l = model::token_classification_loss_sum(result.logits, b.labels.to(device));
      out.loss_sum += l.sum.item<double>();
      out.labelled += l.count.item<double>();
    }
    auto predicted = result.logits.argmax(-1).to(torch::kCPU);
    auto a = predicted.accessor<std::int64_t, 2>();
    for (std::size_t r = 0; r < local.size(); ++r) {
      const auto& w = windows[static_cast<std::size_t>(index[r])];
      auto& labels = out.labels[static_cast<std::size_t>(local[r])];
      for (std::size_t p = 0; p < w.input_ids.size(); ++p)
        labels.push_back(a[static_cast<std::int64_t>(r)][static_cast<std::int64_t>(p)]);
    }
  }
  return out;
}

std::vector<std::vector<std::string>> assemble_tags(const WindowedSentences& windowed,
                                                    const std::vector<std::vector<std::int64_t>>& window_labels,
                                                    const std::vector<TaggedSentence>& sentences,
                                                    const LabelMap& labels) {
  std::vector<std::vector<std::string>> tags(sentences.size());
  for (std::size_t s = 0; s < sentences.size(); ++s) {
    const auto first = windowed.first_window[s], end = windowed.first_window[s + 1];
    const std::vector<WordWindow> windows(windowed.windows.begin() + first, windowed.windows.begin() + end);
    const std::vector<std::vector<std::int64_t>> predicted(window_labels.begin() + first, window_labels.begin() + end);
    for (auto id : assemble_word_predictions(windows, predicted, sentences[s].tokens.size()))
      tags[s].push_back(id >= 0 && id < labels.size() ? labels.name(id) : "O");
  }
  return tags;
}

LoadedTagger load_tagger(const std::string& dir, torch::Device device) {
  LoadedTagger t;
  t.dir = dir;
  t.config = io::load_model_config(dir);
  if (model::architecture_of(t.config) != model::Architecture::TokenClassification)
    bf::fail(dir + ": not a token-classification model (config.json architectures: BertForTokenClassification "
             "expected)");
  t.tokenizer = io::load_model_tokenizer(dir, t.config);
  t.labels = LabelMap::of(t.config);
  t.settings = TaggingSettings::of(t.config);
  t.model = model::BertForTokenClassification(t.config);
  const auto report = io::load_weights(*t.model, io::find_weights_file(dir));
  if (!report.missing.empty()) bf::fail(dir + ": weights do not match the model: " + report.summary());
  t.model->to(device);
  t.model->eval();
  return t;
}

std::vector<std::vector<std::string>> predict_tags(LoadedTagger& tagger, const std::vector<TaggedSentence>& sentences,
                                                   std::int64_t batch_size, torch::Device device) {
  const auto windowed = window_sentences(sentences, *tagger.tokenizer, tagger.settings.windows, nullptr);
  std::vector<std::int64_t> all(windowed.windows.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  c10::InferenceMode inference;
  const auto predicted =
      predict_windows(tagger.model, windowed.windows, all, batch_size, tagger.tokenizer->special_ids().pad, device);
  return assemble_tags(windowed, predicted.labels, sentences, tagger.labels);
}

}  // namespace bf::ft
