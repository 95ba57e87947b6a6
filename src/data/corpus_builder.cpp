#include "data/corpus_builder.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "data/corpus_reader.h"
#include "data/counter_rng.h"
#include "data/progress.h"
#include "data/shard_writer.h"
#include "data/word_segmentation.h"
#include <spdlog/spdlog.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/runtime.h"

namespace bf::data {
namespace fs = std::filesystem;

std::string compute_build_key(const DataConfig& config, const TokenizerInfo& tokenizer, nlohmann::json* inputs_out) {
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& [path, format] : expand_inputs(config.inputs)) {
    inputs.push_back({{"path", path},
                      {"format", format},
                      {"bytes", static_cast<std::int64_t>(fs::file_size(path))},
                      {"xxh3", hash_file_hex(path)}});
  }
  if (inputs_out) *inputs_out = inputs;
  const std::string identity = config.shard_identity() + WordSegmentation::content_identity(config) +
                               "\ntokenizer: " + tokenizer.hash + "\n" + inputs.dump();
  return hash64_hex(identity);
}

bool build_is_current(const std::string& dir, const std::string& build_key) {
  if (!path_exists((fs::path(dir) / kManifestFile).string())) return false;
  try {
    const Manifest m = Manifest::load(dir);
    if (m.build_key != build_key) return false;
    for (const SplitInfo* split : {&m.train, &m.heldout}) {
      for (const auto& shard : split->shards) {
        const fs::path p = fs::path(dir) / shard.file;
        if (!fs::exists(p) || static_cast<std::int64_t>(fs::file_size(p)) != shard.bytes) return false;
      }
    }
    return true;
  } catch (const bf::Error&) {
    return false;
  }
}

namespace {

// Documents read together and tokenized in parallel; big enough that thread
// start-up is noise, small enough to bound memory.
constexpr std::size_t kBlockBytes = 8 << 20;
constexpr std::size_t kBlockDocuments = 8192;

struct Block {
  std::vector<Document> documents;
  std::vector<std::vector<tok::Encoding>> encodings;  // per document, per sentence
};

bool read_block(CorpusReader& reader, Block& block) {
  block.documents.clear();
  std::size_t bytes = 0;
  Document doc;
  while (bytes < kBlockBytes && block.documents.size() < kBlockDocuments && reader.next(doc)) {
    for (const auto& s : doc.sentences) bytes += s.size();
    block.documents.push_back(std::move(doc));
    doc = Document{};
  }
  return !block.documents.empty();
}

void tokenize_block(const WordSegmentation& segmentation, Block& block, int threads, SegmentationCounters& counters) {
  std::vector<std::pair<std::size_t, std::size_t>> sentences;  // (document, sentence)
  block.encodings.assign(block.documents.size(), {});
  for (std::size_t d = 0; d < block.documents.size(); ++d) {
    block.encodings[d].resize(block.documents[d].sentences.size());
    for (std::size_t s = 0; s < block.documents[d].sentences.size(); ++s) sentences.emplace_back(d, s);
  }
  // Work is handed out in small runs so one slow long sentence does not idle the others.
  constexpr std::size_t kRun = 64;
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&]() {
    try {
      WordSegmentation::Encoder encoder = segmentation.encoder();
      struct AddCounters {  // also when this thread stops early
        WordSegmentation::Encoder& encoder;
        SegmentationCounters& total;
        std::mutex& mutex;
        ~AddCounters() {
          std::lock_guard<std::mutex> lock(mutex);
          total.add(encoder.counters);
        }
      } add_counters{encoder, counters, error_mutex};
      while (true) {
        const std::size_t begin = next.fetch_add(kRun);
        if (begin >= sentences.size()) return;
        const std::size_t end = std::min(begin + kRun, sentences.size());
        for (std::size_t i = begin; i < end; ++i) {
          const auto [d, s] = sentences[i];
          block.encodings[d][s] = encoder.encode(block.documents[d].sentences[s]);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = sentences.size();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// Held-out documents are spread evenly through the corpus (document i is
// held out when i * fraction crosses an integer), with a phase from the seed:
// exactly round(fraction * n) ± 1 of them, from every part of the corpus.
class HeldoutSelector {
 public:
  HeldoutSelector(double fraction, std::uint64_t seed) : fraction_(fraction) {
    CounterRng rng(seed, Stream::kSplit, {});
    phase_ = rng.uniform();
  }
  bool is_heldout(std::int64_t document) const {
    if (fraction_ <= 0) return false;
    return std::floor((document + 1) * fraction_ + phase_) > std::floor(document * fraction_ + phase_);
  }

 private:
  double fraction_;
  double phase_ = 0;
};

void check_ids(const std::vector<tok::Encoding>& encodings, std::int32_t vocab_size, const std::string& source) {
  for (const auto& e : encodings) {
    for (std::int32_t id : e.ids) {
      if (id < 0 || id >= vocab_size) {
        bf::fail(source + ": tokenizer produced id " + std::to_string(id) + " outside its vocabulary of " +
                 std::to_string(vocab_size));
      }
    }
  }
}

}  // namespace

BuildResult build_corpus(const DataConfig& config, const tok::Tokenizer& tokenizer, const BuildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (config.output.empty()) bf::fail("data.output: no output directory given");
  if (config.inputs.empty()) bf::fail("data.inputs: no inputs given");
  const TokenizerInfo tokenizer_info = TokenizerInfo::of(tokenizer, options.tokenizer_dir);
  nlohmann::json inputs;
  const std::string build_key = compute_build_key(config, tokenizer_info, &inputs);

  BuildResult result;
  if (!options.force && build_is_current(config.output, build_key)) {
    result.skipped = true;
    result.manifest = Manifest::load(config.output);
    spdlog::info("data build: {} is up to date (same inputs, config and tokenizer); skipped", config.output);
    return result;
  }
  // Bad lexicons and ref files fail here, before any shard is written.
  const WordSegmentation segmentation(config, tokenizer);
  SegmentationCounters segmentation_counters;

  const fs::path output(config.output);
  const fs::path tmp = output.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  // A build that fails (bad input under bad_input: error, a ref position
  // past its line) leaves neither a half directory nor a changed output.
  struct RemoveUnlessKept {
    fs::path dir;
    bool keep = false;
    ~RemoveUnlessKept() {
      std::error_code ignored;
      if (!keep) fs::remove_all(dir, ignored);
    }
  } tmp_guard{tmp};

  const std::uint32_t token_bytes = tokenizer_info.vocab_size <= 65536 ? 2 : 4;
  const int threads = config.build_threads > 0 ? static_cast<int>(config.build_threads) : available_cores();
  CorpusReader reader(expand_inputs(config.inputs), config.bad_input, static_cast<std::size_t>(config.max_line_bytes));
  ShardWriter train(tmp.string(), "train", token_bytes, config.shard_tokens);
  ShardWriter heldout(tmp.string(), "heldout", token_bytes, config.shard_tokens);
  const HeldoutSelector selector(config.heldout_fraction, static_cast<std::uint64_t>(config.seed));
  spdlog::info("data build: {} input files ({:.1f} MB) → {} with {} threads", inputs.size(),
               reader.total_file_bytes() / 1e6, config.output, threads);

  ProgressMeter progress("tokenizing", reader.total_file_bytes(), "MB", 1e-6, options.show_progress);
  std::int64_t document_index = 0;
  std::int64_t empty_after_tokenizing = 0;
  Block current;
  Block next;
  bool have_current = read_block(reader, current);
  while (have_current) {
    // Tokenize this block on the pool while this thread reads the next one.
    auto tokenized = std::async(std::launch::async,
                                [&] { tokenize_block(segmentation, current, threads, segmentation_counters); });
    const bool have_next = read_block(reader, next);
    tokenized.get();
    for (std::size_t d = 0; d < current.documents.size(); ++d) {
      check_ids(current.encodings[d], tokenizer_info.vocab_size, current.documents[d].source);
      segmentation.finish_document(current.documents[d], current.encodings[d], segmentation_counters);
      ShardWriter& writer = selector.is_heldout(document_index++) ? heldout : train;
      if (!writer.add_document(current.encodings[d])) ++empty_after_tokenizing;
    }
    progress.update(reader.file_bytes_done());
    std::swap(current, next);
    have_current = have_next;
  }
  progress.finish();

  Manifest manifest;
  manifest.build_key = build_key;
  manifest.tokenizer = tokenizer_info;
  manifest.token_bytes = token_bytes;
  manifest.train = train.finish();
  manifest.heldout = heldout.finish();
  manifest.input_stats = reader.stats().to_json();
  manifest.input_stats["empty_after_tokenizing"] = empty_after_tokenizing;
  manifest.inputs = inputs;
  DataConfig recorded = config;
  manifest.config_yaml = config_to_yaml(recorded);
  manifest.segmentation = segmentation.describe(segmentation_counters);
  if (manifest.train.documents == 0) {
    fs::remove_all(tmp);
    bf::fail("data build: the inputs hold no usable documents (" + reader.stats().summary() + ")");
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  manifest.build_seconds = result.seconds;
  manifest.save(tmp.string());
  fsync_path(tmp.string());

  // Swap the finished directory into place; the old one goes only after.
  const fs::path old = output.string() + ".old-" + std::to_string(::getpid());
  if (fs::exists(output)) fs::rename(output, old);
  fs::rename(tmp, output);
  tmp_guard.keep = true;
  fs::remove_all(old);
  if (output.has_parent_path()) fsync_path(output.parent_path().string());

  result.manifest = manifest;
  result.raw_bytes = reader.stats().bytes;
  spdlog::info("data build: {}", reader.stats().summary());
  spdlog::info("data build: train {} documents, {} sentences, {} tokens in {} shards; heldout {} documents, {} tokens",
               manifest.train.documents, manifest.train.sentences, manifest.train.tokens, manifest.train.shards.size(),
               manifest.heldout.documents, manifest.heldout.tokens);
  if (segmentation.enabled()) {
    spdlog::info("data build: segmentation {}", describe_segmentation(manifest.segmentation));
  }
  spdlog::info("data build: {:.1f} MB in {:.1f} s ({:.1f} MB/s)", result.raw_bytes / 1e6, result.seconds,
               result.mb_per_second());
  return result;
}

}  // namespace bf::data
