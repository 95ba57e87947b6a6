#include "train/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "io/hf_model.h"
#include "io/safetensors.h"
#include "util/atomic_dir.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace bf::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "step-";

std::optional<std::int64_t> step_of(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  try {
    std::size_t used = 0;
    const auto digits = name.substr(5);
    const long long v = std::stoll(digits, &used);
    if (used != digits.size() || v < 0) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::pair<std::int64_t, fs::path>> list_checkpoints(const fs::path& dir) {
  std::vector<std::pair<std::int64_t, fs::path>> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    if (auto step = step_of(entry.path().filename().string())) out.emplace_back(*step, entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_manifest(const fs::path& dir) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto name = entry.path().filename().string();
    files[name] = {{"bytes", entry.file_size()}, {"xxh3", bf::hash_file_hex(entry.path().string())}};
  }
  bf::write_file_atomic((dir / "manifest.json").string(), nlohmann::json{{"files", files}}.dump(2) + "\n");
}

}  // namespace

std::string checkpoint_name(std::int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%08lld", kPrefix, static_cast<long long>(step));
  return buf;
}

CheckpointWriter::CheckpointWriter(std::string checkpoints_dir, std::int64_t keep_last)
    : dir_(std::move(checkpoints_dir)), keep_last_(keep_last) {}

std::string CheckpointWriter::write(std::int64_t step, const CheckpointContents& c) {
  const fs::path root(dir_);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) bf::fail(dir_ + ": cannot create the checkpoint directory: " + ec.message());
  // Leftovers of a write that crashed are never loaded; clear them.
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(entry.path(), ec);
  bf::remove_stale_temp_files(dir_);  // of `latest` and `best`

  const auto name = checkpoint_name(step);
  const fs::path final_dir = root / name;
  try {
    bf::write_dir_atomic(final_dir.string(), [&](const std::string& tmp_dir) {
      const fs::path tmp(tmp_dir);
      io::save_model_dir(tmp.string(), *c.model, *c.model_config, c.tokenizer);
      io::save_safetensors((tmp / "optimizer.safetensors").string(), c.optimizer_tensors);
      io::save_safetensors((tmp / "rng.safetensors").string(), c.rng_tensors);
      nlohmann::json state = c.trainer_state;
      state["step"] = step;
      state["optimizer"] = c.optimizer_state;
      bf::write_file_atomic((tmp / "trainer_state.json").string(), state.dump(2) + "\n");
      bf::write_file_atomic((tmp / "run_config.yaml").string(), c.run_config_yaml);
      write_manifest(tmp);
    });
  } catch (const std::exception& e) {
    const auto previous = list_checkpoints(root);
    bf::fail("checkpoint at step " + std::to_string(step) + " was not written (" + e.what() + "); " +
             (previous.empty() ? std::string("there is no earlier checkpoint")
                               : "the previous checkpoints are intact (newest: " + previous.back().second.string() + ")"));
  }
  // The checkpoint is complete from here on: what follows only tidies up, and
  // a failure (a full disk) is a warning. `latest` is for people; resume
  // decides by the listing.
  try {
    bf::write_file_atomic((root / "latest").string(), name + "\n");
  } catch (const std::exception& e) {
    spdlog::warn("checkpoint {} is complete, but checkpoints/latest was not updated: {}", name, e.what());
  }
  try {
    prune(c.keep);
  } catch (const std::exception& e) {
    spdlog::warn("checkpoint {} is complete, but older checkpoints were not pruned: {}", name, e.what());
  }
  return final_dir.string();
}

void CheckpointWriter::prune(const std::string& keep) {
  auto all = list_checkpoints(dir_);
  if (!keep.empty() && fs::is_directory(fs::path(dir_) / keep))
    bf::write_file_atomic((fs::path(dir_) / "best").string(), keep + "\n");
  if (static_cast<std::int64_t>(all.size()) <= keep_last_) return;
  const std::size_t keep_from = all.size() - static_cast<std::size_t>(keep_last_);
  for (std::size_t i = 0; i < keep_from; ++i) {
    if (all[i].second.filename() == keep) continue;
    std::error_code ec;
    fs::remove_all(all[i].second, ec);
    if (ec) spdlog::warn("could not remove old checkpoint {}: {}", all[i].second.string(), ec.message());
  }
}

namespace {

// Maps each file of the manifest once and checks its size and checksum on
// that mapping.
std::map<std::string, std::shared_ptr<const bf::MappedFile>> open_verified(const fs::path& root) {
  const auto dir = root.string();
  const auto manifest_path = (root / "manifest.json").string();
  if (!fs::exists(manifest_path)) bf::fail(dir + ": not a complete checkpoint (no manifest.json)");
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(bf::read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    bf::fail(manifest_path + ": corrupt checkpoint manifest: " + e.what());
  }
  if (!manifest.contains("files") || !manifest["files"].is_object()) bf::fail(manifest_path + ": no 'files' table");
  std::map<std::string, std::shared_ptr<const bf::MappedFile>> files;
  for (const auto& [name, info] : manifest["files"].items()) {
    const auto path = root / name;
    if (!fs::exists(path)) bf::fail(dir + ": checkpoint file '" + name + "' is missing");
    auto file = std::make_shared<const bf::MappedFile>(path.string());
    if (file->size() != info.value("bytes", std::uint64_t{0}))
      bf::fail(path.string() + ": checkpoint file has " + std::to_string(file->size()) + " bytes, the manifest says " +
               std::to_string(info.value("bytes", std::uint64_t{0})) + " (truncated or overwritten)");
    if (bf::hash64_hex(file->view()) != info.value("xxh3", std::string()))
      bf::fail(path.string() + ": checkpoint file does not match its checksum (corrupted)");
    files.emplace(name, std::move(file));
  }
  for (const char* needed : {"trainer_state.json", "run_config.yaml", "optimizer.safetensors", "rng.safetensors",
                             "config.json", "model.safetensors"})
    if (!files.count(needed)) bf::fail(manifest_path + ": the manifest does not list '" + needed + "'");
  return files;
}

}  // namespace

LoadedCheckpoint read_checkpoint(const std::string& dir) {
  LoadedCheckpoint out;
  out.dir = dir;
  out.files = open_verified(fs::path(dir));
  const auto& state = *out.files.at("trainer_state.json");
  try {
    out.trainer_state = nlohmann::json::parse(state.view());
  } catch (const nlohmann::json::exception& e) {
    bf::fail(state.path() + ": invalid JSON: " + e.what());
  }
  out.optimizer_state = out.trainer_state.value("optimizer", nlohmann::json::object());
  for (auto& [name, t] : io::SafetensorsReader(out.files.at("optimizer.safetensors")).load_all())
    out.optimizer_tensors[name] = t;
  for (auto& [name, t] : io::SafetensorsReader(out.files.at("rng.safetensors")).load_all())
    out.rng_tensors[name] = t;
  out.run_config_yaml = std::string(out.files.at("run_config.yaml")->view());
  return out;
}

model::BertConfig LoadedCheckpoint::model_config() const {
  const auto& weights = *files.at("model.safetensors");
  return io::parse_model_config(files.at("config.json")->view(), files.at("config.json")->path(), weights.path(),
                                weights.size());
}

void LoadedCheckpoint::load_weights_into(torch::nn::Module& model) const {
  const auto report = io::load_weights(model, io::SafetensorsReader(files.at("model.safetensors")));
  if (!report.missing.empty()) bf::fail(dir + ": model weights incomplete: " + report.summary());
}

std::string find_latest_checkpoint(const std::string& run_or_checkpoints_dir) {
  fs::path dir(run_or_checkpoints_dir);
  if (fs::is_directory(dir / "checkpoints")) dir /= "checkpoints";
  // Decided by the listing, not the `latest` pointer (which is for people):
  // a crash between the rename and the pointer update leaves the pointer
  // stale, while a step-* directory is complete by construction.
  auto all = list_checkpoints(dir);
  if (all.empty()) return "";
  return all.back().second.string();
}

}  // namespace bf::train
