#pragma once
// One sentence of words as model inputs. Each word is tokenized on its own, so
// a word's pieces are known exactly; a sentence longer than the model takes is
// cut into overlapping windows of whole words, so no word is ever dropped; and
// each word is predicted from the window where it has the most context on
// both sides (Google's max-context rule for SQuAD's document spans).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace bf::ft::tagging {

// Positions the loss and the metrics skip (PyTorch's default ignore_index).
constexpr std::int64_t kIgnoredLabel = -100;

struct WindowOptions {
  std::int64_t max_seq_length = 128;  // [CLS] + up to max_seq_length - 2 pieces + [SEP]
  // How many pieces consecutive windows share at most (windows start at word
  // boundaries, so often fewer). -1: half of the max_seq_length - 2.
  std::int64_t stride = -1;
  // Every piece of a word gets the word's label, not just the first.
  bool label_all_pieces = false;
};

struct WordWindow {
  std::vector<std::int32_t> input_ids;         // [CLS] pieces [SEP]
  std::vector<std::int64_t> labels;            // per position, kIgnoredLabel where unscored; empty without labels
  std::vector<std::int32_t> word_of_position;  // the word of each position, -1 for [CLS] and [SEP]
  std::int32_t first_word = 0;                 // the window holds words [first_word, end_word)
  std::int32_t end_word = 0;
  std::vector<std::int32_t> owned_words;       // the words predicted from this window, ascending
};

// The label id of each tag through `label_id` (a label map's lookup, -1 for
// a name it lacks). Throws bf::Error ("token N: ...") on a tag without an id.
std::vector<std::int64_t> word_label_ids(const std::vector<std::string>& tags,
                                         const std::function<std::int64_t(const std::string&)>& label_id);

// Each word's pieces, encode(word).ids: [UNK] for a word that gives none (a
// control character), the first max_pieces of a longer one. `truncated`, when
// given, receives how many words were cut.
std::vector<std::vector<std::int32_t>> word_pieces(const std::vector<std::string>& words,
                                                   const tok::Tokenizer& tokenizer, std::int64_t max_pieces,
                                                   std::int64_t* truncated = nullptr);

// The windows of one sentence's word pieces (each word at most
// max_seq_length - 2 pieces). `word_labels`: one label id per word, or empty
// for unlabelled input. No words: no windows. Throws bf::Error on bad options.
std::vector<WordWindow> make_windows(const std::vector<std::vector<std::int32_t>>& pieces,
                                     const tok::SpecialIds& special, const std::vector<std::int64_t>& word_labels,
                                     const WindowOptions& options);

// word_pieces + make_windows.
std::vector<WordWindow> make_windows(const std::vector<std::string>& words, const tok::Tokenizer& tokenizer,
                                     const std::vector<std::int64_t>& word_labels, const WindowOptions& options);

// Where each word is predicted: the window that owns it and the position of
// its first piece there. Throws bf::Error when a word has no owner.
struct WordOwner {
  std::size_t window = 0;
  std::size_t position = 0;
};
std::vector<WordOwner> word_owners(const std::vector<WordWindow>& windows, std::size_t num_words);

// One predicted label id per word: the one at the word's first piece in the
// window that owns it. predicted[w][p] is the id predicted at position p of
// windows[w] (padding after the window's positions is ignored).
std::vector<std::int64_t> assemble_word_predictions(const std::vector<WordWindow>& windows,
                                                    const std::vector<std::vector<std::int64_t>>& predicted,
                                                    std::size_t num_words);

}  // namespace bf::ft::tagging
