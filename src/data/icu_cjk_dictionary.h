#pragma once
// ICU's Chinese/Japanese dictionary segmentation without the break iterator
// around it. The iterator spends most of its time per CJK character searching
// the dictionary trie's long first branches and in generic machinery (UText,
// normalisation checks, buffers). This runs the same dynamic program as ICU's
// CjkBreakEngine (the cheapest sum of the dictionary's word costs; a
// character without a one-character entry costs 255) straight on the
// dictionary ICU ships (cjdict, a UCharsTrie in ICU's .dict format 1), with
// the first two steps of every match read from tables. Only runs of BMP Han
// characters that NFKC leaves alone take this path; the segmenter gives the
// others to ICU's iterator. At start-up it checks itself against the
// iterator and is not used if they disagree (another ICU version or format).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bf::data {

class IcuCjkDictionary {
 public:
  // The process-wide instance; null when ICU's dictionary cannot be read in
  // the expected format or does not segment as ICU's iterator does.
  static const IcuCjkDictionary* get();

  // Word starts of a run of CJK characters (starts[0] = 1); false, leaving
  // starts alone, when a character is not one this path handles.
  bool segment(const char32_t* run, std::size_t length, std::vector<std::uint8_t>& starts) const;

 private:
  IcuCjkDictionary() = default;
  bool load();

  // The trie after a word's first character; 8 bytes, so the table stays in cache.
  struct First {
    std::int32_t value = 0;      // the one-character word's cost, when there is one
    std::uint8_t result = 0;     // UStringTrieResult
    bool handled = false;        // BMP Han, unchanged by NFKC
  };
  // The trie after a word's first two characters, in an open-addressing
  // table of the ~180k pairs the dictionary continues with (ICU's own second
  // step searches a long branch). Key and outcome share 8 bytes so that a
  // lookup reads one cache line; the trie state is read only to go on.
  struct Pair {
    std::uint32_t key = kNoKey;  // (first - kFirst) << 16 | second
    std::uint32_t outcome = 0;   // cost | UStringTrieResult << 30
  };
  static constexpr std::uint32_t kNoKey = 0xFFFFFFFF;
  static constexpr char32_t kFirst = 0x3400;  // the first-character table covers U+3400..U+9FFF
  static constexpr char32_t kLast = 0x9FFF;

  std::size_t find_pair(char32_t first, char32_t second) const;  // kNoPair when absent
  static constexpr std::size_t kNoPair = ~std::size_t{0};

  const char16_t* trie_ = nullptr;
  std::vector<First> first_;
  std::vector<Pair> pairs_;
  std::vector<std::uint64_t> pair_states_;
};

}  // namespace bf::data
