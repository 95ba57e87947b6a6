#pragma once
// The probe's labelled examples: the train file (optionally a fixed number
// of examples per class, drawn with the probe's seed) and the dev file,
// tokenized once. Single-label classification only: a probe answers "how
// well do these features separate the classes".
#include <cstdint>
#include <string>
#include <vector>

#include "finetune/classify/dataset.h"
#include "finetune/probe/probe_section.h"
#include "tokenizer/tokenizer.h"

namespace bf::ft {

struct ProbeData {
  classify::Dataset train;
  classify::Dataset dev;
  std::vector<std::string> label_names;
  std::int32_t pad_id = 0;
};

ProbeData load_probe_data(const ProbeSection& section, const tok::Tokenizer& tokenizer);

}  // namespace bf::ft
