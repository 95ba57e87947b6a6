#include "data/icu_cjk_dictionary.h"

#include <unicode/appendable.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/ucharstrie.h>
#include <unicode/udata.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>

namespace bf::data {
namespace {

// ICU's .dict files: a data header, then int32 indexes (dictionarydata.h).
constexpr int kIndexTrieOffset = 0;
constexpr int kIndexTrieType = 4;
constexpr int kIndexTransform = 5;
constexpr std::int32_t kTrieTypeMask = 7;
constexpr std::int32_t kTrieTypeUChars = 1;
constexpr std::int32_t kTrieHasValues = 8;

// The constants of ICU's CjkBreakEngine.
constexpr std::size_t kMaxWordLength = 20;      // characters a match may span
constexpr std::uint32_t kUnknownCost = 255;     // a character without a one-character entry

UBool is_dictionary_format_1(void*, const char*, const char*, const UDataInfo* info) {
  return info->size >= sizeof(UDataInfo) && info->isBigEndian == U_IS_BIG_ENDIAN &&
         std::memcmp(info->dataFormat, "Dict", 4) == 0 && info->formatVersion[0] == 1;
}

std::size_t slot_of(std::uint32_t key, std::size_t mask) {
  return static_cast<std::size_t>((key * 0x9E3779B1u) >> 7) & mask;
}

// ICU's own iterator on a run, as per-character word starts.
std::vector<std::uint8_t> iterator_starts(icu::BreakIterator& words, const std::u32string& run) {
  const auto* code_points = reinterpret_cast<const UChar32*>(run.data());
  const icu::UnicodeString text = icu::UnicodeString::fromUTF32(code_points, static_cast<std::int32_t>(run.size()));
  words.setText(text);
  std::vector<std::uint8_t> starts(run.size(), 0);
  for (std::int32_t b = words.first(); b != icu::BreakIterator::DONE; b = words.next()) {
    const std::int32_t at = text.countChar32(0, b);
    if (at < static_cast<std::int32_t>(run.size())) starts[static_cast<std::size_t>(at)] = 1;
  }
  return starts;
}

}  // namespace

const IcuCjkDictionary* IcuCjkDictionary::get() {
  static const std::unique_ptr<IcuCjkDictionary> instance = [] {
    std::unique_ptr<IcuCjkDictionary> dictionary(new IcuCjkDictionary());
    if (!dictionary->load()) dictionary.reset();
    return dictionary;
  }();
  return instance.get();
}

bool IcuCjkDictionary::load() {
  UErrorCode status = U_ZERO_ERROR;
  // The data stays mapped for the life of the process, like ICU's own copy.
  UDataMemory* file = udata_openChoice(U_ICUDATA_NAME U_TREE_SEPARATOR_STRING "brkitr", "dict", "cjdict",
                                       is_dictionary_format_1, nullptr, &status);
  if (U_FAILURE(status) || !file) return false;
  const auto* indexes = static_cast<const std::int32_t*>(udata_getMemory(file));
  if ((indexes[kIndexTrieType] & kTrieTypeMask) != kTrieTypeUChars || !(indexes[kIndexTrieType] & kTrieHasValues) ||
      indexes[kIndexTransform] != 0) {
    udata_close(file);
    return false;
  }
  trie_ = reinterpret_cast<const char16_t*>(reinterpret_cast<const std::uint8_t*>(indexes) + indexes[kIndexTrieOffset]);

  const icu::UnicodeSet han(u"[:Han:]", status);
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
  if (U_FAILURE(status)) return false;
  icu::UCharsTrie trie(trie_);
  first_.resize(kLast - kFirst + 1);
  pairs_.assign(std::size_t{1} << 18, Pair{});  // ~180k pairs in ICU 72's cjdict: two thirds full
  pair_states_.assign(pairs_.size(), 0);
  std::size_t pairs = 0;
  for (char32_t c = kFirst; c <= kLast; ++c) {
    First& first = first_[c - kFirst];
    const UStringTrieResult result = trie.first(static_cast<UChar32>(c));
    first.result = static_cast<std::uint8_t>(result);
    if (USTRINGTRIE_HAS_VALUE(result)) first.value = trie.getValue();
    const std::uint64_t state = trie.getState64();
    first.handled = han.contains(static_cast<UChar32>(c)) && nfkc->isInert(static_cast<UChar32>(c));
    if (!USTRINGTRIE_HAS_NEXT(result)) continue;
    icu::UnicodeString nexts;
    icu::UnicodeStringAppendable appendable(nexts);
    trie.getNextUChars(appendable);
    for (std::int32_t k = 0; k < nexts.length(); ++k) {
      const char16_t next = nexts[k];
      if (U16_IS_SURROGATE(next)) continue;  // supplementary characters never take this path
      trie.resetToState64(state);
      const UStringTrieResult second = trie.next(next);
      const std::int32_t value = USTRINGTRIE_HAS_VALUE(second) ? trie.getValue() : 0;
      if (value < 0 || value >= (1 << 30) || 4 * ++pairs > 3 * pairs_.size()) return false;
      const auto key = static_cast<std::uint32_t>((c - kFirst) << 16 | next);
      std::size_t slot = slot_of(key, pairs_.size() - 1);
      while (pairs_[slot].key != kNoKey) slot = (slot + 1) & (pairs_.size() - 1);
      pairs_[slot] = {key, static_cast<std::uint32_t>(value) | static_cast<std::uint32_t>(second) << 30};
      pair_states_[slot] = trie.getState64();
    }
  }

  // Agree with ICU's iterator on sample text, or stay out of the way.
  std::unique_ptr<icu::BreakIterator> words(icu::BreakIterator::createWordInstance(icu::Locale("zh"), status));
  if (U_FAILURE(status)) return false;
  const std::u32string samples[] = {U"我们在北京大学学习自然语言处理", U"滚滚长江东逝水浪花淘尽英雄是非成败转头空",
                                    U"中华人民共和国国务院总理", U"话说天下大势分久必合合久必分", U"研究生命起源"};
  for (const auto& sample : samples) {
    std::vector<std::uint8_t> starts;
    if (!segment(sample.data(), sample.size(), starts) || starts != iterator_starts(*words, sample)) {
      spdlog::warn("word segmentation: ICU's dictionary reads differently from its iterator here; using the "
                   "iterator (slower)");
      return false;
    }
  }
  return true;
}

std::size_t IcuCjkDictionary::find_pair(char32_t first, char32_t second) const {
  if (second > 0xFFFF) return kNoPair;
  const auto key = static_cast<std::uint32_t>((first - kFirst) << 16 | second);
  const std::size_t mask = pairs_.size() - 1;
  for (std::size_t slot = slot_of(key, mask);; slot = (slot + 1) & mask) {
    if (pairs_[slot].key == key) return slot;
    if (pairs_[slot].key == kNoKey) return kNoPair;
  }
}

bool IcuCjkDictionary::segment(const char32_t* run, std::size_t length, std::vector<std::uint8_t>& starts) const {
  constexpr std::uint32_t kUnreached = std::numeric_limits<std::uint32_t>::max();
  thread_local std::vector<std::uint32_t> best;   // cheapest cost of the first i characters
  thread_local std::vector<std::uint32_t> from;   // where the last word of that segmentation starts
  best.assign(length + 1, kUnreached);
  from.assign(length + 1, 0);
  best[0] = 0;
  icu::UCharsTrie trie(trie_);
  auto relax = [&](std::size_t begin, std::size_t words, std::uint32_t cost) {
    const std::uint32_t total = best[begin] + cost;
    if (total < best[begin + words]) {
      best[begin + words] = total;
      from[begin + words] = static_cast<std::uint32_t>(begin);
    }
  };
  for (std::size_t i = 0; i < length; ++i) {
    if (run[i] < kFirst || run[i] > kLast || !first_[run[i] - kFirst].handled) return false;
    if (best[i] == kUnreached) continue;
    // The dictionary's words starting at i, shortest first, as ICU's matcher
    // reads them: the first step from first_, the second from pairs_, then the trie.
    const First& first = first_[run[i] - kFirst];
    auto result = static_cast<UStringTrieResult>(first.result);
    std::int32_t value = first.value;
    std::size_t pair = kNoPair;
    bool single = false;  // a one-character entry exists
    for (std::size_t n = 1;; ++n) {
      if (USTRINGTRIE_HAS_VALUE(result)) {
        relax(i, n, static_cast<std::uint32_t>(n <= 2 ? value : trie.getValue()));
        single = single || n == 1;
        if (result == USTRINGTRIE_FINAL_VALUE) break;
      } else if (result == USTRINGTRIE_NO_MATCH) {
        break;
      }
      if (n >= kMaxWordLength || i + n >= length) break;
      if (n == 1) {
        pair = find_pair(run[i], run[i + 1]);
        if (pair == kNoPair) break;
        result = static_cast<UStringTrieResult>(pairs_[pair].outcome >> 30);
        value = static_cast<std::int32_t>(pairs_[pair].outcome & ((1u << 30) - 1));
        continue;
      }
      if (n == 2) trie.resetToState64(pair_states_[pair]);
      result = trie.next(static_cast<UChar32>(run[i + n]));
    }
    if (!single) relax(i, 1, kUnknownCost);
  }
  starts.assign(length, 0);
  for (std::size_t end = length; end > 0; end = from[end]) starts[from[end]] = 1;
  return true;
}

}  // namespace bf::data
