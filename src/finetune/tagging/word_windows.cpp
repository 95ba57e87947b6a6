#include "finetune/tagging/word_windows.h"

#include <algorithm>
#include <utility>

#include "util/error.h"

namespace bf::ft::tagging {
namespace {

struct Span {
  std::size_t first_word, end_word;
};

// Windows of whole words: each as long as fits, the next starting at the
// earliest word that keeps the shared pieces within `stride`. The next window
// never starts past the first word the previous one left out and always takes
// that word, so every word is in some window and the loop ends.
std::vector<Span> plan_windows(const std::vector<std::int64_t>& prefix, std::int64_t capacity, std::int64_t stride) {
  std::vector<Span> out;
  const std::size_t n = prefix.size() - 1;
  std::size_t start = 0;
  while (start < n) {
    std::size_t end = start + 1;  // a word alone always fits: its pieces were capped
    while (end < n && prefix[end + 1] - prefix[start] <= capacity) ++end;
    out.push_back({start, end});
    if (end == n) break;
    // Shared pieces also leave room for the first new word, so each window adds one.
    const auto shared = std::min(stride, capacity - (prefix[end + 1] - prefix[end]));
    std::size_t next = start + 1;
    while (prefix[end] - prefix[next] > shared) ++next;
    start = next;
  }
  return out;
}

// For each word, the window where min(pieces left of it, pieces right of it)
// is largest; the earlier window on ties.
std::vector<std::size_t> owners(const std::vector<Span>& spans, const std::vector<std::int64_t>& prefix) {
  const std::size_t n = prefix.size() - 1;
  std::vector<std::size_t> owner(n, 0);
  std::vector<std::int64_t> best(n, -1);
  for (std::size_t k = 0; k < spans.size(); ++k) {
    for (std::size_t w = spans[k].first_word; w < spans[k].end_word; ++w) {
      const auto left = prefix[w] - prefix[spans[k].first_word];
      const auto right = prefix[spans[k].end_word] - prefix[w + 1];
      const auto score = std::min(left, right);
      if (score > best[w]) best[w] = score, owner[w] = k;
    }
  }
  return owner;
}

}  // namespace

std::vector<std::int64_t> word_label_ids(const std::vector<std::string>& tags,
                                         const std::function<std::int64_t(const std::string&)>& label_id) {
  std::vector<std::int64_t> out;
  out.reserve(tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto id = label_id(tags[i]);
    if (id < 0) bf::fail("token " + std::to_string(i) + ": tag '" + tags[i] + "' is not one of the labels");
    out.push_back(id);
  }
  return out;
}

std::vector<std::vector<std::int32_t>> word_pieces(const std::vector<std::string>& words,
                                                   const tok::Tokenizer& tokenizer, std::int64_t max_pieces,
                                                   std::int64_t* truncated) {
  if (max_pieces < 1)
    bf::fail("a word needs room for at least one piece (max_pieces " + std::to_string(max_pieces) + ")");
  const auto unk = tokenizer.special_ids().unk;
  std::vector<std::vector<std::int32_t>> out;
  out.reserve(words.size());
  std::int64_t cut = 0;
  for (const auto& word : words) {
    auto ids = tokenizer.encode(word).ids;
    // A word must stay a position of its own, or its tag would have nowhere to go.
    if (ids.empty()) ids.push_back(unk);
    if (static_cast<std::int64_t>(ids.size()) > max_pieces) {
      ids.resize(static_cast<std::size_t>(max_pieces));
      ++cut;
    }
    out.push_back(std::move(ids));
  }
  if (truncated) *truncated = cut;
  return out;
}

std::vector<WordWindow> make_windows(const std::vector<std::vector<std::int32_t>>& pieces,
                                     const tok::SpecialIds& special, const std::vector<std::int64_t>& word_labels,
                                     const WindowOptions& options) {
  if (options.max_seq_length < 3)
    bf::fail("max_seq_length " + std::to_string(options.max_seq_length) + " leaves no room between [CLS] and [SEP]");
  const std::int64_t capacity = options.max_seq_length - 2;
  const std::int64_t stride = options.stride < 0 ? capacity / 2 : options.stride;
  if (stride >= capacity)
    bf::fail("stride " + std::to_string(stride) + " must be less than the " + std::to_string(capacity) +
             " pieces a window holds (max_seq_length - 2)");
  if (!word_labels.empty() && word_labels.size() != pieces.size())
    bf::fail(std::to_string(pieces.size()) + " words but " + std::to_string(word_labels.size()) + " labels");

  std::vector<std::int64_t> prefix(pieces.size() + 1, 0);
  for (std::size_t w = 0; w < pieces.size(); ++w) {
    const auto n = static_cast<std::int64_t>(pieces[w].size());
    if (n < 1 || n > capacity)
      bf::fail("word " + std::to_string(w) + " has " + std::to_string(n) + " pieces; a window takes 1 to " +
               std::to_string(capacity));
    prefix[w + 1] = prefix[w] + n;
  }
  const auto spans = plan_windows(prefix, capacity, stride);
  const auto owner = owners(spans, prefix);

  const bool labelled = !word_labels.empty();
  std::vector<WordWindow> out(spans.size());
  for (std::size_t k = 0; k < spans.size(); ++k) {
    auto& window = out[k];
    window.first_word = static_cast<std::int32_t>(spans[k].first_word);
    window.end_word = static_cast<std::int32_t>(spans[k].end_word);
    const auto add = [&](std::int32_t id, std::int32_t word, std::int64_t label) {
      window.input_ids.push_back(id);
      window.word_of_position.push_back(word);
      if (labelled) window.labels.push_back(label);
    };
    add(special.cls, -1, kIgnoredLabel);
    for (std::size_t w = spans[k].first_word; w < spans[k].end_word; ++w) {
      const auto label = labelled ? word_labels[w] : kIgnoredLabel;
      for (std::size_t i = 0; i < pieces[w].size(); ++i)
        add(pieces[w][i], static_cast<std::int32_t>(w), i == 0 || options.label_all_pieces ? label : kIgnoredLabel);
      if (owner[w] == k) window.owned_words.push_back(static_cast<std::int32_t>(w));
    }
    add(special.sep, -1, kIgnoredLabel);
  }
  return out;
}

std::vector<WordWindow> make_windows(const std::vector<std::string>& words, const tok::Tokenizer& tokenizer,
                                     const std::vector<std::int64_t>& word_labels, const WindowOptions& options) {
  const auto pieces = word_pieces(words, tokenizer, std::max<std::int64_t>(options.max_seq_length - 2, 1));
  return make_windows(pieces, tokenizer.special_ids(), word_labels, options);
}

std::vector<WordOwner> word_owners(const std::vector<WordWindow>& windows, std::size_t num_words) {
  std::vector<WordOwner> out(num_words);
  std::vector<bool> seen(num_words, false);
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const auto& window = windows[k];
    auto owned = window.owned_words.begin();
    for (std::size_t p = 1; p < window.word_of_position.size() && owned != window.owned_words.end(); ++p) {
      if (window.word_of_position[p] != *owned || window.word_of_position[p - 1] == *owned) continue;
      const auto w = static_cast<std::size_t>(*owned++);
      if (w >= num_words) bf::fail("window " + std::to_string(k) + " owns word " + std::to_string(w) + " of " +
                                   std::to_string(num_words));
      out[w] = {k, p};
      seen[w] = true;
    }
  }
  for (std::size_t w = 0; w < num_words; ++w)
    if (!seen[w]) bf::fail("no window owns word " + std::to_string(w) + " of " + std::to_string(num_words));
  return out;
}

std::vector<std::int64_t> assemble_word_predictions(const std::vector<WordWindow>& windows,
                                                    const std::vector<std::vector<std::int64_t>>& predicted,
                                                    std::size_t num_words) {
  if (predicted.size() != windows.size())
    bf::fail(std::to_string(windows.size()) + " windows but predictions for " + std::to_string(predicted.size()));
  for (std::size_t k = 0; k < windows.size(); ++k)
    if (predicted[k].size() < windows[k].input_ids.size())
      bf::fail("window " + std::to_string(k) + " has " + std::to_string(windows[k].input_ids.size()) +
               " positions but " + std::to_string(predicted[k].size()) + " predictions");
  std::vector<std::int64_t> out;
  out.reserve(num_words);
  for (const auto& owner : word_owners(windows, num_words)) out.push_back(predicted[owner.window][owner.position]);
  return out;
}

}  // namespace bf::ft::tagging
