#include "tokenizer/tokenizer_manifest.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace bf::tok {
namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

json special_ids_json(const SpecialIds& ids) {
  return json{{"pad", ids.pad}, {"unk", ids.unk}, {"cls", ids.cls}, {"sep", ids.sep}, {"mask", ids.mask}};
}

SpecialIds special_ids_from(const json& j) {
  SpecialIds ids;
  ids.pad = j.at("pad").get<std::int32_t>();
  ids.unk = j.at("unk").get<std::int32_t>();
  ids.cls = j.at("cls").get<std::int32_t>();
  ids.sep = j.at("sep").get<std::int32_t>();
  ids.mask = j.at("mask").get<std::int32_t>();
  return ids;
}

}  // namespace

std::string manifest_path(const std::string& dir) { return (std::filesystem::path(dir) / kManifestName).string(); }

TokenizerManifest read_manifest(const std::string& dir) {
  const std::string path = manifest_path(dir);
  if (!path_exists(path)) fail(path + ": tokenizer manifest not found");
  TokenizerManifest manifest;
  try {
    const json j = json::parse(read_file(path));
    if (j.at("format_version").get<int>() != kFormatVersion)
      fail(path + ": unsupported tokenizer manifest format_version " + j.at("format_version").dump());
    manifest.type = j.at("type").get<std::string>();
    manifest.options_json = j.at("options").dump();
    manifest.files = j.at("files").get<std::map<std::string, std::string>>();
    manifest.vocab_size = j.at("vocab_size").get<std::int32_t>();
    manifest.special_ids = special_ids_from(j.at("special_ids"));
    manifest.content_hash = j.at("content_hash").get<std::string>();
    if (j.contains("training")) manifest.training_json = j.at("training").dump();
  } catch (const json::exception& e) {
    fail(path + ": invalid tokenizer manifest: " + e.what());
  }
  return manifest;
}

void write_manifest(const std::string& dir, const TokenizerManifest& manifest) {
  json j;
  j["format_version"] = kFormatVersion;
  j["type"] = manifest.type;
  j["options"] = json::parse(manifest.options_json);
  j["files"] = manifest.files;
  j["vocab_size"] = manifest.vocab_size;
  j["special_ids"] = special_ids_json(manifest.special_ids);
  j["content_hash"] = manifest.content_hash;
  if (!manifest.training_json.empty()) j["training"] = json::parse(manifest.training_json);
  write_file_atomic(manifest_path(dir), j.dump(2) + "\n");
}

std::string tokenizer_content_hash(const std::string& type, const std::string& options_json,
                                   const std::string& file_bytes) {
  // Options are hashed in nlohmann's canonical (sorted-key) form, so the
  // hash does not depend on how a manifest was formatted.
  const std::string canonical = json::parse(options_json).dump();
  return hash64_hex(type + "\n" + canonical + "\n" + hash64_hex(file_bytes));
}

}  // namespace bf::tok
