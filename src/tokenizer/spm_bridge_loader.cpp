#include "tokenizer/spm_bridge_loader.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "util/error.h"
#include "util/fs.h"

namespace bf::tok {
namespace {

constexpr const char* kLibraryName = "libbertforge_spm.so";

std::vector<std::string> candidate_paths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("BERTFORGE_SPM_BRIDGE"); env && *env) paths.emplace_back(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) paths.push_back((exe.parent_path() / kLibraryName).string());
  paths.push_back(std::string(BERTFORGE_BUILD_DIR) + "/" + kLibraryName);
  return paths;
}

template <class F>
void bind(void* handle, const std::string& path, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  if (!fn) fail(path + ": the sentencepiece bridge lacks symbol " + name + " (stale build?)");
}

SpmBridge load_bridge() {
  std::string tried;
  for (const std::string& path : candidate_paths()) {
    if (!path_exists(path)) {
      tried += "\n  " + path + " (not found)";
      continue;
    }
    // A new namespace: the bridge's sentencepiece, protobuf-lite and
    // libstdc++ stay invisible to (and unaffected by) LibTorch's.
    void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += "\n  " + path + " (" + dlerror() + ")";
      continue;
    }
    SpmBridge bridge;
    bridge.path = path;
    decltype(&bf_spm_abi_version) abi_version = nullptr;
    bind(handle, path, "bf_spm_abi_version", abi_version);
    if (abi_version() != BF_SPM_ABI_VERSION)
      fail(path + ": sentencepiece bridge has ABI version " + std::to_string(abi_version()) + ", expected " +
           std::to_string(BF_SPM_ABI_VERSION) + " (stale build?)");
    bind(handle, path, "bf_spm_last_error", bridge.last_error);
    bind(handle, path, "bf_spm_set_random_seed", bridge.set_random_seed);
    bind(handle, path, "bf_spm_train", bridge.train);
    bind(handle, path, "bf_spm_load", bridge.load);
    bind(handle, path, "bf_spm_free", bridge.free);
    bind(handle, path, "bf_spm_vocab_size", bridge.vocab_size);
    bind(handle, path, "bf_spm_piece_kind", bridge.piece_kind);
    bind(handle, path, "bf_spm_id_to_piece", bridge.id_to_piece);
    bind(handle, path, "bf_spm_piece_to_id", bridge.piece_to_id);
    bind(handle, path, "bf_spm_encode", bridge.encode);
    bind(handle, path, "bf_spm_encode_spans", bridge.encode_spans);
    bind(handle, path, "bf_spm_decode", bridge.decode);
    spdlog::debug("sentencepiece bridge loaded from {}", path);
    return bridge;
  }
  fail(std::string("cannot load the sentencepiece bridge ") + kLibraryName + "; tried:" + tried +
       "\n  (set BERTFORGE_SPM_BRIDGE to its path)");
}

}  // namespace

const SpmBridge& SpmBridge::get() {
  // Loaded once: glibc has only a handful of link namespaces to give.
  static std::once_flag once;
  static SpmBridge bridge;
  std::call_once(once, [] { bridge = load_bridge(); });
  return bridge;
}

}  // namespace bf::tok
