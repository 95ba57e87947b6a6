#include "tokenizer/console.h"

#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace bf::tok {
namespace {

std::string join_ids(const std::vector<std::int32_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(ids[i]);
  }
  return out;
}

std::string join_pieces(const Tokenizer& tokenizer, const std::vector<std::int32_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += tokenizer.id_to_token(ids[i]);
  }
  return out;
}

void strip_line_end(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

void encode_pairs(const Tokenizer& tokenizer, const EncodeOptions& options, std::istream& in, std::FILE* out) {
  const int max_length = options.max_length > 0 ? options.max_length : 512;
  for (std::string line; std::getline(in, line);) {
    strip_line_end(line);
    const std::size_t tab = line.find('\t');
    const std::string_view a = std::string_view(line).substr(0, tab);
    std::optional<std::string_view> b;
    if (tab != std::string::npos) b = std::string_view(line).substr(tab + 1);
    const PairEncoding e = tokenizer.encode_pair(a, b, max_length, options.pad);
    const std::string ids = options.pieces ? join_pieces(tokenizer, e.input_ids) : join_ids(e.input_ids);
    std::fprintf(out, "%s\t%s\t%s\n", ids.c_str(), join_ids(e.token_type_ids).c_str(),
                 join_ids(e.attention_mask).c_str());
  }
}

void print_encoding(const Tokenizer& tokenizer, const std::string& text, std::vector<std::int32_t> ids,
                    const EncodeOptions& options, std::FILE* out) {
  if (options.special) {
    const int max_length = options.max_length > 0 ? options.max_length : std::numeric_limits<int>::max();
    ids = tokenizer.encode_pair(text, std::nullopt, max_length).input_ids;
  } else if (options.max_length > 0 && ids.size() > static_cast<std::size_t>(options.max_length)) {
    ids.resize(static_cast<std::size_t>(options.max_length));
  }
  const std::string line = options.pieces ? join_pieces(tokenizer, ids) : join_ids(ids);
  std::fwrite(line.data(), 1, line.size(), out);
  std::fputc('\n', out);
}

}  // namespace

void print_summary(const Tokenizer& tokenizer, const std::string& sample, std::FILE* out) {
  const SpecialIds ids = tokenizer.special_ids();
  auto special = [&](const char* name, std::int32_t id) {
    std::fprintf(out, "  %-5s %d%s\n", name, id, id >= 0 ? (" " + tokenizer.id_to_token(id)).c_str() : " (absent)");
  };
  std::fprintf(out, "type:         %s\n", tokenizer.type().c_str());
  std::fprintf(out, "vocab_size:   %d\n", tokenizer.vocab_size());
  std::fprintf(out, "content_hash: %s\n", tokenizer.content_hash().c_str());
  std::fprintf(out, "special ids:\n");
  special("pad", ids.pad);
  special("unk", ids.unk);
  special("cls", ids.cls);
  special("sep", ids.sep);
  special("mask", ids.mask);
  const Encoding encoding = tokenizer.encode(sample);
  std::fprintf(out, "sample:       %s\n", sample.c_str());
  std::fprintf(out, "  pieces:     %s\n", join_pieces(tokenizer, encoding.ids).c_str());
  std::fprintf(out, "  ids:        %s\n", join_ids(encoding.ids).c_str());
  std::string starts;
  for (auto s : encoding.word_starts) starts += std::string(starts.empty() ? "" : " ") + (s ? "1" : "0");
  std::fprintf(out, "  word starts:%s%s\n", starts.empty() ? "" : " ", starts.c_str());
  std::fprintf(out, "  decoded:    %s\n", tokenizer.decode(encoding.ids).c_str());
}

void encode_lines(const Tokenizer& tokenizer, const EncodeOptions& options, std::istream& in, std::FILE* out) {
  if (options.pair) {
    encode_pairs(tokenizer, options, in, out);
  } else {
    // Lines are encoded in batches on all cores; output order is input order.
    constexpr std::size_t kBatch = 8192;
    std::vector<std::string> batch;
    auto flush = [&] {
      const auto encodings = tokenizer.encode_batch(batch, options.threads);
      for (std::size_t i = 0; i < batch.size(); ++i) print_encoding(tokenizer, batch[i], encodings[i].ids, options, out);
      batch.clear();
    };
    for (std::string line; std::getline(in, line);) {
      strip_line_end(line);
      batch.push_back(std::move(line));
      if (batch.size() == kBatch) flush();
    }
    flush();
  }
  std::fflush(out);
}

}  // namespace bf::tok
