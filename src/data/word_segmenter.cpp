#include "data/word_segmenter.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/utext.h>

#include <algorithm>

#include "data/icu_cjk_dictionary.h"
#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bf::data {
namespace {

namespace unicode = tok::unicode;

// One codepoint at p; a byte that is not UTF-8 reads as itself (never CJK), so
// the walk always advances. ASCII and three-byte characters (all of BMP Han)
// are decoded here, the rest by utf8proc.
inline int next_codepoint(const char* p, const char* end, char32_t* cp) {
  const auto b = static_cast<unsigned char>(p[0]);
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  if ((b & 0xF0) == 0xE0 && end - p >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
    const char32_t c = (char32_t{b & 0x0Fu} << 12) | (char32_t(p[1] & 0x3F) << 6) | char32_t(p[2] & 0x3F);
    if (c >= 0x800 && (c < 0xD800 || c > 0xDFFF)) {
      *cp = c;
      return 3;
    }
  }
  const int n = unicode::decode_utf8(p, end, cp);
  if (n > 0) return n;
  *cp = static_cast<unsigned char>(*p);
  return 1;
}

}  // namespace

struct WordSegmenter::Icu {
  std::unique_ptr<icu::BreakIterator> words;
  UText* text = nullptr;

  Icu() {
    UErrorCode status = U_ZERO_ERROR;
    words.reset(icu::BreakIterator::createWordInstance(icu::Locale("zh"), status));
    if (U_FAILURE(status) || !words) {
      bf::fail(std::string("data.word_segmentation: icu: cannot create ICU's Chinese word break iterator (") +
               u_errorName(status) + ")");
    }
  }
  explicit Icu(const Icu& other) : words(other.words->clone()) {
    if (!words) bf::fail("data.word_segmentation: icu: cannot clone ICU's word break iterator");
  }
  ~Icu() {
    if (text) utext_close(text);
  }
};

SegmentationMode parse_segmentation_mode(const std::string& name) {
  if (name == "icu") return SegmentationMode::kIcu;
  if (name == "pretokenized") return SegmentationMode::kPretokenized;
  bf::fail("data.word_segmentation: '" + name + "' is not one of: none, icu, pretokenized");
}

WordSegmenter::WordSegmenter(SegmentationMode mode, std::shared_ptr<const UserLexicon> lexicon)
    : mode_(mode), lexicon_(std::move(lexicon)) {
  if (mode_ == SegmentationMode::kIcu) {
    icu_ = std::make_unique<Icu>();
    dictionary_ = IcuCjkDictionary::get();
  }
}

WordSegmenter::WordSegmenter(const WordSegmenter& other)
    : mode_(other.mode_), lexicon_(other.lexicon_), dictionary_(other.dictionary_) {
  if (other.icu_) icu_ = std::make_unique<Icu>(*other.icu_);
}

WordSegmenter::~WordSegmenter() = default;

void WordSegmenter::segment(std::string_view sentence, SegmentedSentence& out) {
  out.text.clear();
  out.cjk.clear();
  out.continues.clear();
  out.user_word_hits = 0;
  if (mode_ == SegmentationMode::kPretokenized) {
    split_spaced(sentence, out);
  } else {
    split_with_icu(sentence, out);
  }
  if (lexicon_ && lexicon_->size() > 0) apply_lexicon(out);
}

void WordSegmenter::split_spaced(std::string_view sentence, SegmentedSentence& out) {
  const char* p = sentence.data();
  const char* end = p + sentence.size();
  bool previous_cjk = false;     // the last character written to out.text was CJK
  std::string_view spaces;       // whitespace seen since then, not yet written
  while (p < end) {
    char32_t cp;
    const int n = next_codepoint(p, end, &cp);
    if (unicode::is_whitespace(cp)) {
      spaces = spaces.empty() ? std::string_view(p, n) : std::string_view(spaces.data(), spaces.size() + n);
      p += n;
      continue;
    }
    const bool cjk = unicode::is_cjk(cp);
    const bool boundary = !spaces.empty();
    if (!(cjk && previous_cjk && boundary)) out.text.append(spaces);  // spaces between two CJK characters go
    spaces = {};
    if (cjk) {
      out.cjk.push_back(cp);
      out.continues.push_back(previous_cjk && !boundary);
    }
    out.text.append(p, static_cast<std::size_t>(n));
    previous_cjk = cjk;
    p += n;
  }
  out.text.append(spaces);
}

void WordSegmenter::split_with_icu(std::string_view sentence, SegmentedSentence& out) {
  out.text.assign(sentence);
  cjk_offsets_.clear();
  const char* begin = out.text.data();
  const char* end = begin + out.text.size();
  for (const char* p = begin; p < end;) {
    char32_t cp;
    const int n = next_codepoint(p, end, &cp);
    if (unicode::is_cjk(cp)) {
      out.cjk.push_back(cp);
      cjk_offsets_.push_back(static_cast<std::uint32_t>(p - begin));
    }
    p += n;
  }
  out.continues.assign(out.cjk.size(), 0);
  // Maximal runs of adjacent CJK characters; ICU only sees runs of two or more.
  const std::size_t count = out.cjk.size();
  std::size_t run = 0;
  while (run < count) {
    std::size_t last = run;
    std::uint32_t run_end = cjk_offsets_[run] + static_cast<std::uint32_t>(out.cjk[run] < 0x10000 ? 3 : 4);
    while (last + 1 < count && cjk_offsets_[last + 1] == run_end) {
      ++last;
      run_end += out.cjk[last] < 0x10000 ? 3 : 4;
    }
    const std::size_t length = last - run + 1;
    if (length > 1 && dictionary_ && dictionary_->segment(out.cjk.data() + run, length, run_starts_)) {
      for (std::size_t k = 1; k < length; ++k) out.continues[run + k] = !run_starts_[k];
    } else if (length > 1) {
      const std::uint32_t run_begin = cjk_offsets_[run];
      UErrorCode status = U_ZERO_ERROR;
      icu_->text = utext_openUTF8(icu_->text, begin + run_begin, run_end - run_begin, &status);
      icu_->words->setText(icu_->text, status);
      if (U_FAILURE(status)) bf::fail(std::string("data.word_segmentation: icu: ") + u_errorName(status));
      // Every character of the run continues a word unless a boundary falls before it.
      for (std::size_t k = run + 1; k <= last; ++k) out.continues[k] = 1;
      for (std::int32_t b = icu_->words->next(); b != icu::BreakIterator::DONE; b = icu_->words->next()) {
        const std::uint32_t at = run_begin + static_cast<std::uint32_t>(b);
        // The run's characters are sorted by offset: find the one at this boundary.
        const auto it = std::lower_bound(cjk_offsets_.begin() + static_cast<std::ptrdiff_t>(run),
                                         cjk_offsets_.begin() + static_cast<std::ptrdiff_t>(last + 1), at);
        if (it != cjk_offsets_.begin() + static_cast<std::ptrdiff_t>(last + 1) && *it == at) {
          out.continues[static_cast<std::size_t>(it - cjk_offsets_.begin())] = 0;
        }
      }
    }
    run = last + 1;
  }
}

void WordSegmenter::apply_lexicon(SegmentedSentence& out) {
  codepoints_.clear();
  cjk_index_.clear();
  std::int32_t cjk = 0;
  const char* end = out.text.data() + out.text.size();
  for (const char* p = out.text.data(); p < end;) {
    char32_t cp;
    p += next_codepoint(p, end, &cp);
    codepoints_.push_back(cp);
    cjk_index_.push_back(unicode::is_cjk(cp) ? cjk++ : -1);
  }
  const std::size_t n = codepoints_.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t length = lexicon_->longest_match(codepoints_.data() + i, n - i);
    if (length == 0) {
      ++i;
      continue;
    }
    ++out.user_word_hits;
    // The word's first character and the one after it start words; the rest continue it.
    for (std::size_t j = i; j < i + length; ++j) {
      if (cjk_index_[j] >= 0) out.continues[static_cast<std::size_t>(cjk_index_[j])] = j > i;
    }
    if (i + length < n && cjk_index_[i + length] >= 0) {
      out.continues[static_cast<std::size_t>(cjk_index_[i + length])] = 0;
    }
    i += length;
  }
}

}  // namespace bf::data
