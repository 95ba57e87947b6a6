#pragma once
// Loads libbertforge_spm.so into a link namespace of its own, so that the
// protobuf-lite bundled in Debian's libsentencepiece never meets the
// libprotobuf that LibTorch links. This file and sentencepiece_tokenizer.cpp
// are the only code that knows the bridge exists.
#include <string>

#include "tokenizer/spm_bridge/spm_bridge_abi.h"

namespace bf::tok {

struct SpmBridge {
  decltype(&bf_spm_last_error) last_error = nullptr;
  decltype(&bf_spm_set_random_seed) set_random_seed = nullptr;
  decltype(&bf_spm_train) train = nullptr;
  decltype(&bf_spm_load) load = nullptr;
  decltype(&bf_spm_free) free = nullptr;
  decltype(&bf_spm_vocab_size) vocab_size = nullptr;
  decltype(&bf_spm_piece_kind) piece_kind = nullptr;
  decltype(&bf_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&bf_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&bf_spm_encode) encode = nullptr;
  decltype(&bf_spm_encode_spans) encode_spans = nullptr;
  decltype(&bf_spm_decode) decode = nullptr;
  std::string path;  // where the library was found

  // The process-wide bridge, loaded on first use. Looked for in
  // $BERTFORGE_SPM_BRIDGE, next to the running executable, then in the build
  // directory; throws bf::Error listing the places tried.
  static const SpmBridge& get();
};

}  // namespace bf::tok
