#include "finetune/tagging/tagger.h"

#include <algorithm>

#include "infer/batches.h"
#include "model/bert_for_token_classification.h"
#include "util/error.h"

namespace bf::ft::tagging {
namespace {

// The gold labels of a batch's windows, kIgnoredLabel on padding; undefined
// when a window has none (unlabelled text).
torch::Tensor batch_labels(const std::vector<WordWindow>& windows, const std::vector<std::int64_t>& index,
                           std::int64_t width) {
  const auto rows = static_cast<std::int64_t>(index.size());
  auto labels = torch::full({rows, width}, kIgnoredLabel, torch::kLong);
  auto a = labels.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& w = windows[static_cast<std::size_t>(index[static_cast<std::size_t>(r)])];
    if (w.labels.empty()) return {};
    for (std::size_t p = 0; p < w.labels.size(); ++p) a[r][static_cast<std::int64_t>(p)] = w.labels[p];
  }
  return labels;
}

}  // namespace

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
  infer::store_data_settings(config, {{"task", "token_classification"},
                                      {"format", format},
                                      {"tag_scheme", tag_scheme_name(scheme)},
                                      {"max_seq_length", windows.max_seq_length},
                                      {"window_stride", windows.stride},
                                      {"label_all_pieces", windows.label_all_pieces}});
}

TaggingSettings TaggingSettings::from_json(const nlohmann::json& saved) {
  TaggingSettings s;
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

WindowPredictions predict_windows(infer::Model& model, const std::vector<WordWindow>& windows,
                                  const std::vector<std::int64_t>& which, std::int64_t batch_size) {
  WindowPredictions out;
  out.labels.resize(which.size());
  std::vector<infer::Sequence> sequences;
  for (auto i : which) sequences.push_back({&windows[static_cast<std::size_t>(i)].input_ids, nullptr});
  infer::run(model, sequences, {batch_size}, [&](const infer::PaddedBatch& b, const infer::Outputs& result) {
    std::vector<std::int64_t> index;
    for (auto k : b.index) index.push_back(which[static_cast<std::size_t>(k)]);
    const auto labels = batch_labels(windows, index, b.input_ids.size(1));
    if (labels.defined()) {
      const auto l = model::token_classification_loss_sum(result.logits, labels.to(model.device()));
      out.loss_sum += l.sum.item<double>();
      out.labelled += l.count.item<double>();
    }
    auto predicted = result.logits.argmax(-1).to(torch::kCPU);
    auto a = predicted.accessor<std::int64_t, 2>();
    for (std::size_t r = 0; r < b.index.size(); ++r) {
      const auto& w = windows[static_cast<std::size_t>(index[r])];
      auto& labels_of = out.labels[static_cast<std::size_t>(b.index[r])];
      for (std::size_t p = 0; p < w.input_ids.size(); ++p)
        labels_of.push_back(a[static_cast<std::int64_t>(r)][static_cast<std::int64_t>(p)]);
    }
  });
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

std::vector<WordPrediction> word_predictions(const std::vector<WordWindow>& windows,
                                             const std::vector<torch::Tensor>& window_logits, std::size_t num_words) {
  if (window_logits.size() != windows.size())
    bf::fail(std::to_string(windows.size()) + " windows but logits for " + std::to_string(window_logits.size()));
  std::vector<WordPrediction> out;
  out.reserve(num_words);
  for (const auto& owner : word_owners(windows, num_words)) {
    const auto row = window_logits[owner.window][static_cast<std::int64_t>(owner.position)];
    // argmax as predict_windows takes it; the probability in float64 as classify's decide.
    const auto label = row.argmax().item<std::int64_t>();
    out.push_back({label, torch::softmax(row.to(torch::kFloat64), 0)[label].item<double>()});
  }
  return out;
}

std::vector<std::vector<std::string>> predict_tags(infer::Model& model, const WindowedSentences& windowed,
                                                   const std::vector<TaggedSentence>& sentences,
                                                   std::int64_t batch_size) {
  std::vector<std::int64_t> all(windowed.windows.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  const auto predicted = predict_windows(model, windowed.windows, all, batch_size);
  return assemble_tags(windowed, predicted.labels, sentences, LabelMap::of(model.config()));
}

}  // namespace bf::ft::tagging
