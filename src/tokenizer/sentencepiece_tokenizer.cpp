#include "tokenizer/sentencepiece_tokenizer.h"

#include <filesystem>

#include "tokenizer/spm_bridge_loader.h"
#include "tokenizer/tokenizer_manifest.h"
#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::tok {
namespace {

constexpr const char* kModelFile = "spm.model";
constexpr const char* kVocabFile = "spm.vocab";
constexpr std::string_view kWordBoundary = "\xE2\x96\x81";  // U+2581, sentencepiece's "▁"

bool piece_starts_word(std::string_view piece) {
  if (piece.substr(0, kWordBoundary.size()) == kWordBoundary) return true;
  char32_t cp;
  return !piece.empty() && unicode::decode_utf8(piece.data(), piece.data() + piece.size(), &cp) > 0 &&
         unicode::is_cjk(cp);
}

std::string read_piece(const SpmBridge& bridge, const bf_spm_model* model, int id) {
  std::string piece(32, '\0');
  int n = bridge.id_to_piece(model, id, piece.data(), static_cast<int>(piece.size()));
  if (n > static_cast<int>(piece.size())) {
    piece.resize(static_cast<std::size_t>(n));
    n = bridge.id_to_piece(model, id, piece.data(), n);
  }
  if (n < 0) fail(std::string("sentencepiece: ") + bridge.last_error());
  piece.resize(static_cast<std::size_t>(n));
  return piece;
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path, std::string training_json)
    : model_path_(model_path), training_json_(std::move(training_json)) {
  if (!path_exists(model_path)) fail(model_path + ": sentencepiece model not found");
  const SpmBridge& bridge = SpmBridge::get();
  bf_spm_model* raw = bridge.load(model_path.c_str());
  if (!raw) fail(model_path + ": cannot load sentencepiece model: " + bridge.last_error());
  model_ = std::shared_ptr<bf_spm_model>(raw, bridge.free);
  model_bytes_ = read_file(model_path);
  const auto vocab_path = std::filesystem::path(model_path).replace_extension(".vocab").string();
  if (path_exists(vocab_path)) vocab_bytes_ = read_file(vocab_path);

  const int size = bridge.vocab_size(raw);
  pieces_.reserve(static_cast<std::size_t>(size));
  starts_word_.reserve(static_cast<std::size_t>(size));
  special_ids_ = SpecialIds{-1, -1, -1, -1, -1};
  for (int id = 0; id < size; ++id) {
    pieces_.push_back(read_piece(bridge, raw, id));
    const std::string& piece = pieces_.back();
    piece_ids_.insert_or_assign(piece, id);
    const int kind = bridge.piece_kind(raw, id);
    starts_word_.push_back(kind == BF_SPM_NORMAL && piece_starts_word(piece));
    if (kind == BF_SPM_UNKNOWN) special_ids_.unk = id;
  }
  special_ids_.pad = piece_ids_.find("[PAD]");
  special_ids_.cls = piece_ids_.find("[CLS]");
  special_ids_.sep = piece_ids_.find("[SEP]");
  special_ids_.mask = piece_ids_.find("[MASK]");
  content_hash_ = tokenizer_content_hash(type(), "{}", model_bytes_);
}

std::vector<std::int32_t> SentencePieceTokenizer::encode_ids(std::string_view text) const {
  const SpmBridge& bridge = SpmBridge::get();
  // Normalisation can lengthen text (NFKC), so the first guess may be short.
  std::vector<std::int32_t> ids(text.size() + 8);
  long n = bridge.encode(model_.get(), text.data(), text.size(), ids.data(), ids.size());
  if (n > static_cast<long>(ids.size())) {
    ids.resize(static_cast<std::size_t>(n));
    n = bridge.encode(model_.get(), text.data(), text.size(), ids.data(), ids.size());
  }
  if (n < 0) fail(model_path_ + ": sentencepiece encode failed: " + bridge.last_error());
  ids.resize(static_cast<std::size_t>(n));
  return ids;
}

Encoding SentencePieceTokenizer::encode(std::string_view text) const {
  Encoding out;
  out.ids = encode_ids(text);
  out.word_starts.reserve(out.ids.size());
  for (std::int32_t id : out.ids) out.word_starts.push_back(starts_word_[static_cast<std::size_t>(id)]);
  // Whatever the first piece is, it starts the text's first word.
  if (!out.word_starts.empty()) out.word_starts[0] = 1;
  return out;
}

std::vector<std::string> SentencePieceTokenizer::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  for (std::int32_t id : encode_ids(text)) pieces.push_back(pieces_[static_cast<std::size_t>(id)]);
  return pieces;
}

std::vector<PieceSpan> SentencePieceTokenizer::encode_with_offsets(std::string_view text) const {
  const SpmBridge& bridge = SpmBridge::get();
  std::size_t capacity = text.size() + 8;
  std::vector<std::int32_t> ids(capacity);
  std::vector<std::size_t> begins(capacity), ends(capacity);
  auto encode = [&] {
    return bridge.encode_spans(model_.get(), text.data(), text.size(), ids.data(), begins.data(), ends.data(),
                               capacity);
  };
  long n = encode();
  if (n > static_cast<long>(capacity)) {
    capacity = static_cast<std::size_t>(n);
    ids.resize(capacity);
    begins.resize(capacity);
    ends.resize(capacity);
    n = encode();
  }
  if (n < 0) fail(model_path_ + ": sentencepiece encode failed: " + bridge.last_error());
  std::vector<PieceSpan> out(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].id = ids[i];
    out[i].piece = pieces_[static_cast<std::size_t>(ids[i])];
    out[i].start = begins[i];
    out[i].end = ends[i];
  }
  return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int32_t>& ids) const {
  const SpmBridge& bridge = SpmBridge::get();
  std::string text(ids.size() * 8 + 16, '\0');
  long n = bridge.decode(model_.get(), ids.data(), ids.size(), text.data(), text.size());
  if (n > static_cast<long>(text.size())) {
    text.resize(static_cast<std::size_t>(n));
    n = bridge.decode(model_.get(), ids.data(), ids.size(), text.data(), text.size());
  }
  if (n < 0) fail(model_path_ + ": sentencepiece decode failed: " + bridge.last_error());
  text.resize(static_cast<std::size_t>(n));
  return text;
}

std::string SentencePieceTokenizer::id_to_token(std::int32_t id) const {
  if (id < 0 || id >= vocab_size())
    fail("token id " + std::to_string(id) + " is out of range for a vocabulary of " + std::to_string(vocab_size()));
  return pieces_[static_cast<std::size_t>(id)];
}

void SentencePieceTokenizer::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  TokenizerManifest manifest;
  write_file_atomic((fs::path(dir) / kModelFile).string(), model_bytes_);
  manifest.files["model"] = kModelFile;
  if (!vocab_bytes_.empty()) {
    write_file_atomic((fs::path(dir) / kVocabFile).string(), vocab_bytes_);
    manifest.files["vocab"] = kVocabFile;
  }
  manifest.type = type();
  manifest.vocab_size = vocab_size();
  manifest.special_ids = special_ids_;
  manifest.content_hash = content_hash_;
  manifest.training_json = training_json_;
  write_manifest(dir, manifest);
}

}  // namespace bf::tok
