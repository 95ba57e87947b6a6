#include <filesystem>

#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_manifest.h"
#include "tokenizer/wordpiece_tokenizer.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::tok {
namespace {

namespace fs = std::filesystem;

std::string file_in(const std::string& dir, const TokenizerManifest& manifest, const std::string& role) {
  const auto it = manifest.files.find(role);
  if (it == manifest.files.end()) fail(manifest_path(dir) + ": files." + role + " is missing");
  return (fs::path(dir) / it->second).string();
}

std::unique_ptr<Tokenizer> from_manifest(const std::string& dir) {
  const TokenizerManifest manifest = read_manifest(dir);
  std::unique_ptr<Tokenizer> tokenizer;
  if (manifest.type == "wordpiece") {
    const auto options = WordPieceTokenizer::options_from_json(manifest.options_json, manifest_path(dir));
    tokenizer = std::make_unique<WordPieceTokenizer>(WordPieceVocab::from_file(file_in(dir, manifest, "vocab")), options);
  } else if (manifest.type == "sentencepiece") {
    tokenizer = std::make_unique<SentencePieceTokenizer>(file_in(dir, manifest, "model"), manifest.training_json);
  } else {
    fail(manifest_path(dir) + ": unknown tokenizer type \"" + manifest.type + "\" (wordpiece or sentencepiece)");
  }
  if (tokenizer->vocab_size() != manifest.vocab_size)
    fail(manifest_path(dir) + ": vocab_size " + std::to_string(manifest.vocab_size) + " but the files hold " +
         std::to_string(tokenizer->vocab_size()) + " tokens");
  if (tokenizer->content_hash() != manifest.content_hash)
    fail(manifest_path(dir) + ": content_hash " + manifest.content_hash + " does not match the files (" +
         tokenizer->content_hash() + "): the vocabulary/model or options changed after the manifest was written");
  return tokenizer;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  // A bare vocab.txt (e.g. bert-base-uncased's) is a lower-casing WordPiece tokenizer.
  if (fs::is_regular_file(dir) && fs::path(dir).extension() == ".txt") return load_wordpiece_vocab(dir);
  if (!fs::is_directory(dir)) fail(dir + ": tokenizer directory not found");
  if (path_exists(manifest_path(dir))) return from_manifest(dir);
  const std::string carried = (fs::path(dir) / "tokenizer").string();
  if (path_exists(manifest_path(carried))) return from_manifest(carried);
  const std::string vocab = (fs::path(dir) / "vocab.txt").string();
  if (path_exists(vocab)) return load_wordpiece_vocab(vocab);
  fail(dir + ": not a tokenizer directory: it has no " + kManifestName + ", tokenizer/" + kManifestName +
       " or vocab.txt");
}

std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::string& vocab_txt, bool lower_case) {
  WordPieceOptions options;
  options.do_lower_case = lower_case;
  return std::make_unique<WordPieceTokenizer>(WordPieceVocab::from_file(vocab_txt), options);
}

}  // namespace bf::tok
