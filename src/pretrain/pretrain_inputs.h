#pragma once
// What pretraining needs on disk before it starts: the shards, built (or
// confirmed up to date) from the config's data section, and the checks that
// would otherwise fail a run later.
#include <optional>
#include <string>
#include <vector>

#include "finetune/probe/probe_data.h"
#include "pretrain/pretrain_config.h"
#include "tokenizer/tokenizer.h"

namespace bf::pretrain {

// Builds (or confirms up to date) the shards the config's data section names.
void ensure_pretraining_data(const PretrainConfig& config, const tok::Tokenizer& tokenizer);

// What the config's files hold that would fail the run later, checked before
// any work given the run's tokenizer: shards in data.output built with another
// tokenizer (never silently rebuilt over), a model.init_from of another size,
// eval.probe's files. Empty when fine. The probe's data, once read, is kept in
// *probe when given (so the run does not read it again).
std::vector<std::string> check_pretrain_inputs(const PretrainConfig& config, const tok::Tokenizer& tokenizer,
                                               std::optional<ft::ProbeData>* probe = nullptr);

}  // namespace bf::pretrain
