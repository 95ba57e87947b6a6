#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/runtime.h"

namespace bf::tok {
namespace {

// Google's _truncate_seq_pair: drop the last token of the longer sequence
// (of b when they are equally long) until the pair fits.
void truncate_pair(std::vector<std::int32_t>& a, std::vector<std::int32_t>& b, std::size_t max_tokens) {
  while (a.size() + b.size() > max_tokens) {
    if (a.size() > b.size()) {
      a.pop_back();
    } else {
      b.pop_back();
    }
  }
}

// Counts code points (UTF-8 lead bytes) from the start of text up to a byte
// offset, resuming where the last offset left off when offsets increase.
class CodepointCursor {
 public:
  explicit CodepointCursor(std::string_view text) : text_(text) {}

  std::size_t at(std::size_t byte_offset) {
    byte_offset = std::min(byte_offset, text_.size());
    if (byte_offset < byte_) byte_ = chars_ = 0;
    for (; byte_ < byte_offset; ++byte_)
      chars_ += !unicode::is_continuation_byte(static_cast<unsigned char>(text_[byte_]));
    return chars_;
  }

 private:
  std::string_view text_;
  std::size_t byte_ = 0;
  std::size_t chars_ = 0;
};

}  // namespace

std::vector<PieceSpan> Tokenizer::encode_with_offsets(std::string_view) const {
  fail("encode_with_offsets: the " + type() + " tokenizer gives no piece offsets");
}

std::size_t codepoint_offset(std::string_view text, std::size_t byte_offset) {
  return CodepointCursor(text).at(byte_offset);
}

std::vector<CharSpan> codepoint_spans(std::string_view text, const std::vector<PieceSpan>& spans) {
  CodepointCursor cursor(text);
  std::vector<CharSpan> out;
  out.reserve(spans.size());
  for (const PieceSpan& span : spans) {
    CharSpan chars;
    chars.start = cursor.at(span.start);
    chars.end = cursor.at(span.end);
    out.push_back(chars);
  }
  return out;
}

PairEncoding Tokenizer::encode_pair(std::string_view a, std::optional<std::string_view> b, int max_len,
                                    bool pad_to_max_length) const {
  const SpecialIds special = special_ids();
  if (special.cls < 0 || special.sep < 0) fail("encode_pair: the vocabulary has no [CLS] or [SEP] token");
  std::vector<std::int32_t> ids_a = encode(a).ids;
  std::vector<std::int32_t> ids_b;
  if (b) ids_b = encode(*b).ids;
  // As run_classifier.py: a second text that yields no tokens is no second
  // segment (no second [SEP]).
  const bool has_b = !ids_b.empty();
  const int reserved = has_b ? 3 : 2;
  if (max_len < reserved)
    fail("encode_pair: max_len " + std::to_string(max_len) + " leaves no room for the special tokens");
  if (has_b) {
    truncate_pair(ids_a, ids_b, static_cast<std::size_t>(max_len - reserved));
  } else if (ids_a.size() > static_cast<std::size_t>(max_len - reserved)) {
    ids_a.resize(static_cast<std::size_t>(max_len - reserved));
  }

  PairEncoding out;
  auto append = [&](std::int32_t id, std::int32_t segment) {
    out.input_ids.push_back(id);
    out.token_type_ids.push_back(segment);
    out.attention_mask.push_back(1);
  };
  append(special.cls, 0);
  for (std::int32_t id : ids_a) append(id, 0);
  append(special.sep, 0);
  if (has_b) {
    for (std::int32_t id : ids_b) append(id, 1);
    append(special.sep, 1);
  }
  if (pad_to_max_length) {
    if (special.pad < 0) fail("encode_pair: padding needs a [PAD] token, which the vocabulary lacks");
    while (out.input_ids.size() < static_cast<std::size_t>(max_len)) {
      out.input_ids.push_back(special.pad);
      out.token_type_ids.push_back(0);
      out.attention_mask.push_back(0);
    }
  }
  return out;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, int threads) const {
  std::vector<Encoding> out(texts.size());
  // Texts are handed out in blocks from a shared counter: lines vary a lot in
  // length, and a static split would leave threads idle.
  constexpr std::size_t kBlock = 64;
  const std::size_t blocks = (texts.size() + kBlock - 1) / kBlock;
  std::atomic<std::size_t> next_block{0};
  auto work = [&] {
    for (std::size_t block = next_block++; block < blocks; block = next_block++) {
      const std::size_t end = std::min(texts.size(), (block + 1) * kBlock);
      for (std::size_t i = block * kBlock; i < end; ++i) out[i] = encode(texts[i]);
    }
  };
  const std::size_t wanted = static_cast<std::size_t>(threads > 0 ? threads : available_cores());
  const std::size_t n_threads = std::min(wanted, blocks);
  if (n_threads <= 1) {
    work();
    return out;
  }
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex error_mutex;
  for (std::size_t t = 0; t < n_threads; ++t) {
    pool.emplace_back([&] {
      try {
        work();
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next_block = blocks;  // the others stop early
      }
    });
  }
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
  return out;
}

void check_tokenizer_matches(const Tokenizer& tokenizer, const std::string& expected_hash,
                             std::int32_t expected_vocab_size, const std::string& model_dir) {
  if (tokenizer.vocab_size() != expected_vocab_size)
    fail(model_dir + ": the tokenizer has " + std::to_string(tokenizer.vocab_size()) +
         " tokens but the model was built for " + std::to_string(expected_vocab_size) +
         ": they do not belong together");
  if (tokenizer.content_hash() != expected_hash)
    fail(model_dir + ": tokenizer content hash " + tokenizer.content_hash() + " differs from " + expected_hash +
         " recorded with the model: it is not the tokenizer the model was trained with");
}

}  // namespace bf::tok
