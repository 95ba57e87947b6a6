#pragma once
// What pretraining needs on disk before it starts: the shards, built (or
// confirmed up to date) from the config's data section, and the checks that
// would otherwise fail a run later.
#include <string>
#include <vector>

#include "pretrain/pretrain_config.h"
#include "tokenizer/tokenizer.h"

namespace bf::pretrain {

// Builds (or confirms up to date) the shards the config's data section names.
void ensure_pretraining_data(const PretrainConfig& config, const tok::Tokenizer& tokenizer);

// What the config's files hold that would fail the run later, checked before
// any work given the run's tokenizer: shards in data.output built with another
// tokenizer (never silently rebuilt over), a model.init_from of another size.
// Empty when fine.
std::vector<std::string> check_pretrain_inputs(const PretrainConfig& config, const tok::Tokenizer& tokenizer);

}  // namespace bf::pretrain
