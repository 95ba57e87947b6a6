#pragma once
// Typed requests of a token-classification model on raw text (the HF
// pipeline's token-classification): the text split into words as BERT's basic
// tokenizer splits it (tokenizer/word_split.h), the words windowed and tagged
// exactly as predict tags a CoNLL file of them, the tags grouped into
// entities as the pipeline's aggregation_strategy "first" groups them.
// Offsets are code points of the text (Python str indices), end exclusive.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "finetune/request_inputs.h"
#include "finetune/tagging/tag_scheme.h"
#include "infer/job.h"
#include "infer/model.h"

namespace bf::ft::tagging {

struct TagRequest {
  std::vector<std::string> texts;
};

struct TaggedWord {
  std::string word;  // the text's slice
  std::int64_t start = 0, end = 0;
  std::size_t byte_begin = 0, byte_end = 0;  // the same span in bytes
  std::string tag;   // the model's label
  double score = 0;  // its probability
};

struct TaggedEntity {
  std::string entity_group;  // the type ("PER" of B-PER)
  double score = 0;          // mean of its words' scores
  std::string word;          // the text from the first word's start to the last word's end
  std::int64_t start = 0, end = 0;
};

struct TagAnswer {
  std::vector<TaggedWord> words;  // every word, "O" included
  std::vector<TaggedEntity> entities;
};

// The scheme of a label set: BIOES or BMES when labels of theirs (E-, S-, M-)
// are present, IOB otherwise.
TagScheme label_scheme(const std::vector<std::string>& labels);

// Entities of one text's tagged words, with conlleval's chunk rules (which
// are the pipeline's: O and a type change end an entity, B- starts one). A
// label without a prefix ("PER") reads as I-PER, as the pipeline reads it.
std::vector<TaggedEntity> group_entities(const std::string& text, const std::vector<TaggedWord>& words,
                                         TagScheme scheme);

// Splits and windows on the caller's thread with the model's saved
// TaggingSettings. A text without words (only spaces) has no answers.
infer::Job<std::vector<TagAnswer>> tag_job(const infer::Model& model, const TagRequest& request);

// {"inputs": "text" | ["t1", ...], "aggregation": "first" | "simple" |
// "none"}. "first" and "simple" (the same here: a word has one prediction)
// answer [{entity_group, score, word, start, end}]; "none" every word not
// tagged O as [{entity, score, index (the word's), word, start, end}]. One
// list for one text, a list of lists for a list.
TagRequest parse_tag_request(const nlohmann::json& body, const RequestLimits& limits);
// The task table's entry (finetune/tasks.h).
infer::Job<nlohmann::json> tag_request(infer::Model& model, const nlohmann::json& body, const RequestLimits& limits);

}  // namespace bf::ft::tagging
