// libbertforge_spm.so: sentencepiece behind a C interface (see spm_bridge_abi.h).
// Nothing may throw across this boundary; failures become return codes and a
// message kept per thread.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

#include "spm_bridge_abi.h"

struct bf_spm_model {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

thread_local std::string last_error;

int fail(const std::string& message) {
  last_error = message;
  return -1;
}

template <class F>
auto guarded(F&& body, decltype(body()) on_exception) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown exception in sentencepiece";
  }
  return on_exception;
}

}  // namespace

extern "C" {

int bf_spm_abi_version(void) { return BF_SPM_ABI_VERSION; }

const char* bf_spm_last_error(void) { return last_error.c_str(); }

void bf_spm_set_random_seed(unsigned int seed) { sentencepiece::SetRandomGeneratorSeed(seed); }

int bf_spm_train(const char* const* keys, const char* const* values, int count) {
  return guarded(
      [&]() -> int {
        std::unordered_map<std::string, std::string> kwargs;
        for (int i = 0; i < count; ++i) kwargs[keys[i]] = values[i];
        const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs);
        if (!status.ok()) return fail(status.ToString());
        return 0;
      },
      -1);
}

bf_spm_model* bf_spm_load(const char* path) {
  return guarded(
      [&]() -> bf_spm_model* {
        auto* model = new bf_spm_model;
        const auto status = model->processor.Load(path);
        if (!status.ok()) {
          fail(status.ToString());
          delete model;
          return nullptr;
        }
        return model;
      },
      nullptr);
}

void bf_spm_free(bf_spm_model* model) { delete model; }

int bf_spm_vocab_size(const bf_spm_model* model) { return model->processor.GetPieceSize(); }

int bf_spm_piece_kind(const bf_spm_model* model, int id) {
  const auto& p = model->processor;
  if (id < 0 || id >= p.GetPieceSize()) return fail("piece id out of range: " + std::to_string(id));
  if (p.IsUnknown(id)) return BF_SPM_UNKNOWN;
  if (p.IsControl(id)) return BF_SPM_CONTROL;
  if (p.IsUnused(id)) return BF_SPM_UNUSED;
  if (p.IsByte(id)) return BF_SPM_BYTE;
  return BF_SPM_NORMAL;
}

int bf_spm_id_to_piece(const bf_spm_model* model, int id, char* buf, int capacity) {
  const auto& p = model->processor;
  if (id < 0 || id >= p.GetPieceSize()) return fail("piece id out of range: " + std::to_string(id));
  const std::string& piece = p.IdToPiece(id);
  const int length = static_cast<int>(piece.size());
  if (length <= capacity) std::memcpy(buf, piece.data(), piece.size());
  return length;
}

int bf_spm_piece_to_id(const bf_spm_model* model, const char* piece, size_t length) {
  const auto& p = model->processor;
  const int id = p.PieceToId(absl::string_view(piece, length));
  // sentencepiece answers unk_id for a missing piece; only the unk piece itself is unk.
  if (p.IsUnknown(id) && p.IdToPiece(id) != std::string(piece, length)) return -1;
  return id;
}

long bf_spm_encode(const bf_spm_model* model, const char* text, size_t length, int32_t* ids, size_t capacity) {
  return guarded(
      [&]() -> long {
        thread_local std::vector<int> encoded;
        encoded.clear();
        const auto status = model->processor.Encode(absl::string_view(text, length), &encoded);
        if (!status.ok()) return fail(status.ToString());
        if (encoded.size() <= capacity) std::copy(encoded.begin(), encoded.end(), ids);
        return static_cast<long>(encoded.size());
      },
      -1L);
}

long bf_spm_encode_spans(const bf_spm_model* model, const char* text, size_t length, int32_t* ids, size_t* begins,
                         size_t* ends, size_t capacity) {
  return guarded(
      [&]() -> long {
        // The same Encode the ids come from, seen through its proto.
        const auto encoded = model->processor.EncodeAsImmutableProto(absl::string_view(text, length));
        const size_t count = encoded.pieces_size();
        if (count <= capacity) {
          for (size_t i = 0; i < count; ++i) {
            const auto piece = encoded.pieces(static_cast<int>(i));
            ids[i] = static_cast<int32_t>(piece.id());
            begins[i] = piece.begin();
            ends[i] = piece.end();
          }
        }
        return static_cast<long>(count);
      },
      -1L);
}

long bf_spm_decode(const bf_spm_model* model, const int32_t* ids, size_t count, char* buf, size_t capacity) {
  return guarded(
      [&]() -> long {
        const int size = model->processor.GetPieceSize();
        std::vector<int> input(ids, ids + count);
        for (int id : input) {
          if (id < 0 || id >= size) return fail("piece id out of range: " + std::to_string(id));
        }
        std::string text;
        const auto status = model->processor.Decode(input, &text);
        if (!status.ok()) return fail(status.ToString());
        if (text.size() <= capacity) std::memcpy(buf, text.data(), text.size());
        return static_cast<long>(text.size());
      },
      -1L);
}

}  // extern "C"
