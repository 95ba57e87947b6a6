#include "data/manifest.h"

#include <filesystem>

#include "util/error.h"
#include "util/fs.h"

namespace bf::data {

TokenizerInfo TokenizerInfo::of(const tok::Tokenizer& tokenizer, const std::string& dir) {
  TokenizerInfo info;
  info.hash = tokenizer.content_hash();
  info.type = tokenizer.type();
  info.vocab_size = tokenizer.vocab_size();
  info.special = tokenizer.special_ids();
  info.dir = dir;
  return info;
}

const SplitInfo& Manifest::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "heldout") return heldout;
  bf::fail("unknown data split '" + name + "' (expected train or heldout)");
}

namespace {

nlohmann::json split_to_json(const SplitInfo& s) {
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& shard : s.shards) {
    shards.push_back({{"file", shard.file},
                      {"documents", shard.documents},
                      {"sentences", shard.sentences},
                      {"tokens", shard.tokens},
                      {"bytes", shard.bytes},
                      {"xxh3", shard.xxh3}});
  }
  return {{"documents", s.documents}, {"sentences", s.sentences}, {"tokens", s.tokens}, {"shards", shards}};
}

SplitInfo split_from_json(const nlohmann::json& j) {
  SplitInfo s;
  s.documents = j.at("documents").get<std::int64_t>();
  s.sentences = j.at("sentences").get<std::int64_t>();
  s.tokens = j.at("tokens").get<std::int64_t>();
  for (const auto& shard : j.at("shards")) {
    s.shards.push_back({shard.at("file").get<std::string>(), shard.at("documents").get<std::int64_t>(),
                        shard.at("sentences").get<std::int64_t>(), shard.at("tokens").get<std::int64_t>(),
                        shard.at("bytes").get<std::int64_t>(), shard.at("xxh3").get<std::string>()});
  }
  return s;
}

}  // namespace

nlohmann::json Manifest::to_json() const {
  const auto& sp = tokenizer.special;
  nlohmann::json j = {{"format", "bertforge-pretraining-shards"},
                      {"version", version},
                      {"build_key", build_key},
                      {"tokenizer",
                       {{"hash", tokenizer.hash},
                        {"type", tokenizer.type},
                        {"vocab_size", tokenizer.vocab_size},
                        {"dir", tokenizer.dir},
                        {"special_ids",
                         {{"pad", sp.pad}, {"unk", sp.unk}, {"cls", sp.cls}, {"sep", sp.sep}, {"mask", sp.mask}}}}},
                      {"token_bytes", token_bytes},
                      {"splits", {{"train", split_to_json(train)}, {"heldout", split_to_json(heldout)}}},
                      {"input_stats", input_stats},
                      {"inputs", inputs},
                      {"config", config_yaml},
                      {"build_seconds", build_seconds}};
  if (!segmentation.is_null()) j["segmentation"] = segmentation;
  return j;
}

Manifest Manifest::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    if (j.at("format").get<std::string>() != "bertforge-pretraining-shards") bf::fail(where + ": not a shard manifest");
    Manifest m;
    m.version = j.at("version").get<std::int64_t>();
    if (m.version != 1) bf::fail(where + ": manifest version " + std::to_string(m.version) + " is not supported");
    m.build_key = j.at("build_key").get<std::string>();
    const auto& t = j.at("tokenizer");
    m.tokenizer.hash = t.at("hash").get<std::string>();
    m.tokenizer.type = t.at("type").get<std::string>();
    m.tokenizer.vocab_size = t.at("vocab_size").get<std::int32_t>();
    m.tokenizer.dir = t.value("dir", "");
    const auto& sp = t.at("special_ids");
    m.tokenizer.special = {sp.at("pad").get<std::int32_t>(), sp.at("unk").get<std::int32_t>(),
                           sp.at("cls").get<std::int32_t>(), sp.at("sep").get<std::int32_t>(),
                           sp.at("mask").get<std::int32_t>()};
    m.token_bytes = j.at("token_bytes").get<std::uint32_t>();
    m.train = split_from_json(j.at("splits").at("train"));
    m.heldout = split_from_json(j.at("splits").at("heldout"));
    m.input_stats = j.value("input_stats", nlohmann::json::object());
    m.inputs = j.value("inputs", nlohmann::json::array());
    m.config_yaml = j.value("config", "");
    m.build_seconds = j.value("build_seconds", 0.0);
    m.segmentation = j.value("segmentation", nlohmann::json());
    return m;
  } catch (const nlohmann::json::exception& e) {
    bf::fail(where + ": malformed manifest: " + e.what());
  }
}

void Manifest::save(const std::string& dir) const {
  write_file_atomic((std::filesystem::path(dir) / kManifestFile).string(), to_json().dump(2) + "\n");
}

Manifest Manifest::load(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kManifestFile).string();
  if (!path_exists(path)) {
    bf::fail(dir + ": no " + kManifestFile + " (not a shard directory, or its build did not finish); run "
             "`bertforge data build --config FILE`");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number that overflows
    bf::fail(path + ": not valid JSON: " + e.what());
  }
  return from_json(j, path);
}

void Manifest::check_tokenizer(const TokenizerInfo& current, const std::string& dir) const {
  if (current.hash == tokenizer.hash && current.vocab_size == tokenizer.vocab_size) return;
  bf::fail("the shards in " + dir + " were built with another tokenizer (" + tokenizer.type + ", vocab " +
           std::to_string(tokenizer.vocab_size) + ", hash " + tokenizer.hash + ") than this run's (" + current.type +
           ", vocab " + std::to_string(current.vocab_size) + ", hash " + current.hash +
           "); rebuild them with `bertforge data build` using this tokenizer");
}

}  // namespace bf::data
