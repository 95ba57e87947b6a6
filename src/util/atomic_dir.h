#pragma once
// A directory written whole or not at all: checkpoints, a run's exported
// model/ and best_model/ all go through here, so a crash at any moment leaves
// either the previous directory or the new one, never a mix.
#include <functional>
#include <string>

namespace bf {

// Fills a hidden sibling (".tmp-NAME") through `fill`, fsyncs every file in it
// and the directory itself, then puts it in place of `dir` (an atomic swap
// when `dir` exists) and fsyncs the parent. A leftover ".tmp-NAME" of a killed
// write is cleared first. On failure the temporary directory is removed, `dir`
// is untouched, and the exception is rethrown.
void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp_dir)>& fill);

// The temporary name write_dir_atomic uses for `dir`.
std::string temp_dir_for(const std::string& dir);

}  // namespace bf
