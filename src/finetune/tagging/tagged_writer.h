#pragma once
// Predictions written next to their input, so the output lines up with the
// file the user gave: a CoNLL file comes back line for line with the
// predicted tag as a new last column (conlleval reads gold and prediction
// from the last two columns); a JSON line comes back with the predicted tags
// and the entities they mark, read with the metrics' own chunk rules.
#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "finetune/tagging/tagged_reader.h"

namespace bf::ft::tagging {

// [{type, start, end, text}] of the predicted IOB2 tags: token indices with
// end exclusive and the tokens joined by spaces; for CLUENER input, code
// point offsets into the text (end exclusive) and the text between them.
nlohmann::json predicted_entities(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags);

// CoNLL: the blank and -DOCSTART- lines before the sentence as they were,
// then each token line + TAB + its predicted tag; every line ends in "\n".
std::string conll_prediction(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags);

// JSONL: the input object plus "predicted_tags" and "entities"; for CLUENER
// input also "predicted_label" in CLUENER's own {TYPE: {text: [[start,
// end_inclusive]]}} form.
nlohmann::json json_prediction(const TaggedSentence& sentence, const std::vector<std::string>& predicted_tags);

// Every sentence, in the format of the input. Throws bf::Error when a
// sentence's predicted tags do not match its tokens.
void write_predictions(std::ostream& out, const TaggedData& data,
                       const std::vector<std::vector<std::string>>& predicted_tags);

}  // namespace bf::ft::tagging
