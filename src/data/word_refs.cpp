#include "data/word_refs.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bf::data {
namespace {

// Python's str.isspace() for one character (what HF's line filter asks).
bool python_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

bool hf_keeps(const std::string& line) {
  const char* end = line.data() + line.size();
  for (const char* p = line.data(); p < end;) {
    char32_t cp;
    const int n = tok::unicode::decode_utf8(p, end, &cp);
    if (n == 0 || !python_space(cp)) return true;
    p += n;
  }
  return false;
}

// Per line number of the corpus (plain or gzip): whether HF's
// run_chinese_ref.py would have written a list for it.
std::vector<bool> corpus_lines_hf_keeps(const std::string& path) {
  gzFile gz = ::gzopen(path.c_str(), "rb");
  if (!gz) bf::fail(path + ": cannot open: " + std::strerror(errno));
  std::vector<bool> keeps{false};  // line numbers are 1-based
  std::vector<char> buffer(1 << 20);
  std::string line;
  bool pending = false;
  while (true) {
    const int n = ::gzread(gz, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) {
      int code = 0;
      const std::string message = ::gzerror(gz, &code);
      ::gzclose(gz);
      bf::fail(path + ": read error: " + message);
    }
    if (n == 0) break;
    const char* p = buffer.data();
    const char* end = p + n;
    while (p < end) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      line.append(p, newline ? newline : end);
      pending = true;
      if (!newline) break;
      keeps.push_back(hf_keeps(line));
      line.clear();
      pending = false;
      p = newline + 1;
    }
  }
  ::gzclose(gz);
  if (pending) keeps.push_back(hf_keeps(line));
  return keeps;
}

}  // namespace

WordRefs WordRefs::load(const std::string& refs_path, const std::string& corpus_path) {
  WordRefs refs;
  refs.path_ = refs_path;
  std::ifstream in(refs_path, std::ios::binary);
  if (!in) bf::fail("data.word_refs: cannot read " + refs_path);
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = refs_path + ":" + std::to_string(number) + ": ";
    nlohmann::json list;
    try {
      list = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      bf::fail(where + "not a JSON list of token positions (run_chinese_ref.py writes one per line)");
    }
    if (!list.is_array()) {
      bf::fail(where + "not a JSON list of token positions (run_chinese_ref.py writes one per line)");
    }
    for (const auto& value : list) {
      if (!value.is_number_integer()) bf::fail(where + value.dump() + " is not an integer token position");
      const auto position = value.get<std::int64_t>();
      if (position < 1 || position > (std::int64_t{1} << 30)) {
        bf::fail(where + "position " + std::to_string(position) + " is out of range (positions count [CLS] as 0, "
                 "so a piece that continues a word is at 1 or later)");
      }
      refs.positions_.push_back(static_cast<std::int32_t>(position));
    }
    refs.offsets_.push_back(static_cast<std::int64_t>(refs.positions_.size()));
  }

  const std::vector<bool> keeps = corpus_lines_hf_keeps(corpus_path);
  refs.ref_of_line_.assign(keeps.size(), -1);
  std::int32_t next = 0;
  for (std::size_t line_number = 1; line_number < keeps.size(); ++line_number) {
    if (!keeps[line_number]) continue;
    if (static_cast<std::size_t>(next) == refs.lines()) {
      bf::fail(refs_path + ":" + std::to_string(next + 1) + ": missing: the ref file has " +
               std::to_string(refs.lines()) + " lines, but " + corpus_path + " has more non-empty lines (line " +
               std::to_string(line_number) + " has no list); the ref file must be made from this corpus");
    }
    refs.ref_of_line_[line_number] = next++;
  }
  if (static_cast<std::size_t>(next) < refs.lines()) {
    bf::fail(refs_path + ":" + std::to_string(next + 1) + ": one line more than " + corpus_path +
             " has non-empty lines (" + std::to_string(next) + "); the ref file must be made from this corpus");
  }
  return refs;
}

void WordRefs::apply(const PieceCjkTable& pieces, const Document& document,
                     std::vector<tok::Encoding>& encodings) const {
  std::vector<std::size_t> ends;  // cumulative token counts of the line's sentences
  std::size_t s = 0;
  while (s < encodings.size()) {
    const std::int64_t line_number = document.lines[s];
    const std::size_t first = s;
    ends.clear();
    std::size_t tokens = 0;
    for (; s < encodings.size() && document.lines[s] == line_number; ++s) {
      tokens += encodings[s].ids.size();
      ends.push_back(tokens);
    }
    if (line_number <= 0 || static_cast<std::size_t>(line_number) >= ref_of_line_.size()) continue;
    const std::int32_t ref = ref_of_line_[static_cast<std::size_t>(line_number)];
    if (ref < 0) continue;
    const std::string where = path_ + ":" + std::to_string(ref + 1) + ": ";
    const auto first_position = static_cast<std::size_t>(offsets_[static_cast<std::size_t>(ref)]);
    const auto end_position = static_cast<std::size_t>(offsets_[static_cast<std::size_t>(ref) + 1]);
    for (std::size_t i = first_position; i < end_position; ++i) {
      const auto token = static_cast<std::size_t>(positions_[i] - 1);
      if (token >= tokens) {
        bf::fail(where + "position " + std::to_string(token + 1) + " is out of range for corpus line " +
                 std::to_string(line_number) + " (" + std::to_string(tokens) + " tokens: positions 1.." +
                 std::to_string(tokens) + ", [CLS] = 0)");
      }
      const auto sentence = static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), token) - ends.begin());
      const std::size_t index = token - (sentence == 0 ? 0 : ends[sentence - 1]);
      tok::Encoding& encoding = encodings[first + sentence];
      const std::int32_t id = encoding.ids[index];
      if (!pieces.is_single_cjk(id)) {
        bf::fail(where + "position " + std::to_string(token + 1) + " of corpus line " + std::to_string(line_number) +
                 " is not a single Chinese character (HF marks only those); is the ref file made with this "
                 "tokenizer's vocabulary?");
      }
      encoding.word_starts[index] = 0;
    }
  }
}

}  // namespace bf::data
