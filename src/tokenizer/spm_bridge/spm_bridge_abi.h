#pragma once
// The C interface of libbertforge_spm.so, the only code that links
// sentencepiece. It is loaded into its own link namespace (dlmopen), which has
// its own libstdc++ and heap, so only C types cross it: the caller owns every
// buffer, and a function that fills one returns the size it needed (call
// again with a bigger buffer when that is more than was given).
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_SPM_ABI_VERSION 2

typedef struct bf_spm_model bf_spm_model;

enum bf_spm_piece_kind {
  BF_SPM_NORMAL = 0,
  BF_SPM_UNKNOWN = 1,
  BF_SPM_CONTROL = 2,
  BF_SPM_UNUSED = 3,
  BF_SPM_BYTE = 4,
};

int bf_spm_abi_version(void);
// The message of the last failure on this thread ("" when none).
const char* bf_spm_last_error(void);

void bf_spm_set_random_seed(unsigned int seed);
// Trains with sentencepiece's flags as key/value pairs. 0 on success.
int bf_spm_train(const char* const* keys, const char* const* values, int count);

// NULL on failure.
bf_spm_model* bf_spm_load(const char* path);
void bf_spm_free(bf_spm_model* model);
int bf_spm_vocab_size(const bf_spm_model* model);
int bf_spm_piece_kind(const bf_spm_model* model, int id);
// Copies piece `id` (no terminator) into buf; returns its length, -1 for a bad id.
int bf_spm_id_to_piece(const bf_spm_model* model, int id, char* buf, int capacity);
int bf_spm_piece_to_id(const bf_spm_model* model, const char* piece, size_t length);
// Writes the ids of text; returns how many there are, -1 on failure.
long bf_spm_encode(const bf_spm_model* model, const char* text, size_t length, int32_t* ids, size_t capacity);
// As bf_spm_encode, and each piece's [begin, end) byte offsets into text
// (sentencepiece's SentencePieceText spans) into begins and ends.
long bf_spm_encode_spans(const bf_spm_model* model, const char* text, size_t length, int32_t* ids, size_t* begins,
                         size_t* ends, size_t capacity);
// Writes the decoded text (no terminator); returns its length, -1 on failure.
long bf_spm_decode(const bf_spm_model* model, const int32_t* ids, size_t count, char* buf, size_t capacity);

#ifdef __cplusplus
}
#endif
