#pragma once
// tokenizer_config.json, our small manifest that makes a directory a
// tokenizer: its type, options, files, vocab size, special ids and content
// hash. The vocab size written here is the one the model takes.
#include <cstdint>
#include <map>
#include <string>

#include "tokenizer/tokenizer.h"

namespace bf::tok {

inline constexpr const char* kManifestName = "tokenizer_config.json";

struct TokenizerManifest {
  std::string type;                          // "wordpiece" or "sentencepiece"
  std::string options_json = "{}";           // a JSON object; its keys belong to the type
  std::map<std::string, std::string> files;  // role ("vocab", "model") -> file name in the directory
  std::int32_t vocab_size = 0;
  SpecialIds special_ids;
  std::string content_hash;
  std::string training_json;  // the training settings, for the record ("" when not trained here)
};

std::string manifest_path(const std::string& dir);
// Throws bf::Error naming the file when it is missing, not JSON or lacks a field.
TokenizerManifest read_manifest(const std::string& dir);
void write_manifest(const std::string& dir, const TokenizerManifest& manifest);

// The identity of a tokenizer: its type, options and vocabulary/model bytes.
std::string tokenizer_content_hash(const std::string& type, const std::string& options_json,
                                   const std::string& file_bytes);

}  // namespace bf::tok
