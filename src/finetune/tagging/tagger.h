#pragma once
// A token-classification model at work: windows of word pieces through the
// inference loop, per-position labels predicted, one tag per word assembled
// from the window that owns it. The fine-tuning task, evaluate and predict
// all go through here, so they read and decide the same way.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "finetune/labels.h"
#include "finetune/tagging/tagged_reader.h"
#include "finetune/tagging/word_windows.h"
#include "infer/model.h"
#include "model/bert_config.h"
#include "tokenizer/tokenizer.h"

namespace bf::ft::tagging {

struct WindowBatch {
  torch::Tensor input_ids;       // [B, S] int64, S = the longest window of the batch
  torch::Tensor attention_mask;  // [B, S]
  torch::Tensor labels;          // [B, S], kIgnoredLabel on padding; undefined for unlabelled windows
  std::int64_t labelled = 0;     // positions whose label is scored
};

// A training batch of labelled windows.
WindowBatch collate_windows(const std::vector<WordWindow>& windows, const std::vector<std::int64_t>& index,
                            std::int32_t pad_id);

// How a token-classification model reads its input; stored in config.json
// ("bertforge_data") so evaluate and predict read new files as training did.
struct TaggingSettings {
  std::string format = "auto";
  TagScheme scheme = TagScheme::Iob2;
  WindowOptions windows;

  void store_in(model::BertConfig& config) const;
  static TaggingSettings from_json(const nlohmann::json& saved);
};

// The windows of every sentence, and which windows belong to which sentence.
struct WindowedSentences {
  std::vector<WordWindow> windows;
  std::vector<std::int64_t> first_window;  // per sentence, plus one past the end
  std::int64_t truncated_words = 0;        // words longer than a window, cut to fit
  std::int64_t unknown_tags = 0;           // gold tags outside the label map (not in the loss)
};

// labels: a label map to label the windows with (gold tags), or null.
WindowedSentences window_sentences(const std::vector<TaggedSentence>& sentences, const tok::Tokenizer& tokenizer,
                                   const WindowOptions& options, const LabelMap* labels);

struct WindowPredictions {
  std::vector<std::vector<std::int64_t>> labels;  // per window of `which`, per position: the argmax label id
  double loss_sum = 0;                            // cross-entropy over labelled positions (labelled windows)
  double labelled = 0;
};

// Predicts the windows `which` (indices into windows) in batches of similar length.
WindowPredictions predict_windows(infer::Model& model, const std::vector<WordWindow>& windows,
                                  const std::vector<std::int64_t>& which, std::int64_t batch_size);

// One tag per word of every sentence, from every window's predicted labels.
std::vector<std::vector<std::string>> assemble_tags(const WindowedSentences& windowed,
                                                    const std::vector<std::vector<std::int64_t>>& window_labels,
                                                    const std::vector<TaggedSentence>& sentences,
                                                    const LabelMap& labels);

// One word's predicted label and its probability: the softmax at the word's
// first piece in the window that owns it (the position predict reads).
struct WordPrediction {
  std::int64_t label = 0;
  double probability = 0;
};
// window_logits[k]: windows[k]'s logits [S, C] (float32 on the CPU, padding cut).
std::vector<WordPrediction> word_predictions(const std::vector<WordWindow>& windows,
                                             const std::vector<torch::Tensor>& window_logits, std::size_t num_words);

// The tags `model` predicts for every sentence of `windowed`.
std::vector<std::vector<std::string>> predict_tags(infer::Model& model, const WindowedSentences& windowed,
                                                   const std::vector<TaggedSentence>& sentences,
                                                   std::int64_t batch_size);

}  // namespace bf::ft::tagging
