#pragma once
// Content hashes (XXH3-64, from Debian's libxxhash) used for checksum
// manifests and tokenizer identity. Not cryptographic: they catch corruption
// and mismatched files, not tampering.
#include <cstdint>
#include <string>
#include <string_view>

namespace bf {

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);
std::string hash64_hex(std::string_view bytes);
std::string hash_file_hex(const std::string& path);  // streams; any size

}  // namespace bf
