#pragma once
// data.word_refs: Hugging Face's whole-word-masking reference files
// (examples/research_projects/mlm_wwm, run_chinese_ref.py), the segmentation
// of a corpus prepared with LTP or another segmenter. One JSON list per
// non-empty corpus line (HF skips lines that are empty or all whitespace) of
// the token positions, counted in HF's input_ids with [CLS] at 0, of the
// Chinese pieces that continue a word. Position p is our token p - 1 of the
// line (the concatenation of the line's sentences); that token then does not
// start a word.
#include <cstdint>
#include <string>
#include <vector>

#include "data/corpus_reader.h"
#include "data/word_alignment.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

class WordRefs {
 public:
  // Reads the ref file and checks it against the corpus (one input file):
  // every line a list of integers >= 1, as many lists as the corpus has
  // non-empty lines. Errors name the file and line.
  static WordRefs load(const std::string& refs_path, const std::string& corpus_path);

  std::size_t lines() const { return offsets_.size() - 1; }
  // Marks the positions of the document's lines in its encodings (one per
  // sentence, as tokenized). A position past its line's tokens, or on a piece
  // that is not a single CJK character, is an error naming the file and line.
  void apply(const PieceCjkTable& pieces, const Document& document, std::vector<tok::Encoding>& encodings) const;

 private:
  std::string path_;
  std::vector<std::int64_t> offsets_{0};       // per ref line: its positions in positions_
  std::vector<std::int32_t> positions_;
  std::vector<std::int32_t> ref_of_line_{-1};  // per corpus line number (1-based): its ref line, or -1
};

}  // namespace bf::data
