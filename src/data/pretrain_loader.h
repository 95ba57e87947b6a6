#pragma once
// Fixed-shape pretraining batches from a shard directory, made by background
// threads ahead of use.
//
// Order and sharding: each epoch visits the split's samples in an order
// shuffled from (seed, epoch). A step consumes one global batch of
// batch_size × world_size consecutive samples of that order; rank r takes the
// r-th slice of batch_size. So n ranks × batch b see exactly what one process
// with batch n·b sees, and together they cover the epoch once (the tail that
// does not fill a global batch is dropped, a different one each epoch).
//
// Resume: the state is a LoaderCursor (epoch, global sample position of the
// next step), identical on every rank. restore() jumps there in O(1) — the
// epoch's plan is recomputed from sentence lengths, no batch is replayed —
// and what follows is bit-identical to an uninterrupted run.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/data_config.h"
#include "data/pretrain_batch.h"
#include "data/sample_source.h"

namespace bf::data {

struct LoaderCursor {
  std::int64_t epoch = 0;
  std::int64_t position = 0;  // global sample position in the epoch's order

  nlohmann::json to_json() const { return {{"epoch", epoch}, {"position", position}}; }
  static LoaderCursor from_json(const nlohmann::json& j);
  bool operator==(const LoaderCursor& o) const { return epoch == o.epoch && position == o.position; }
  bool operator!=(const LoaderCursor& o) const { return !(*this == o); }
};

struct LoaderOptions {
  std::string data_dir;
  std::string split = "train";  // train | heldout
  InstanceOptions instances;
  MaskingOptions masking;
  std::int64_t batch_size = 32;  // per rank
  std::uint64_t seed = 0;
  std::int32_t rank = 0;
  std::int32_t world_size = 1;
  std::int32_t num_threads = 2;  // 0: batches are made inside next()
  std::int32_t prefetch = 8;     // batches made ahead
  bool shuffle = true;
  bool verify_checksums = true;
  // The run's tokenizer; the shards must have been built with it. When
  // absent, the manifest's tokenizer is taken on trust (tools, benchmarks).
  std::optional<TokenizerInfo> tokenizer;

  // Everything but batch size, seed and rank from the `data:` config section.
  static LoaderOptions from_config(const DataConfig& config, std::int64_t batch_size, std::uint64_t seed,
                                   std::string split = "train");
};

class PretrainLoader {
 public:
  explicit PretrainLoader(LoaderOptions options, LoaderCursor start = {});
  ~PretrainLoader();
  PretrainLoader(const PretrainLoader&) = delete;
  PretrainLoader& operator=(const PretrainLoader&) = delete;

  // This rank's batch of the step at cursor(); advances the cursor.
  PretrainBatch next();

  LoaderCursor cursor() const;
  void restore(const LoaderCursor& cursor);

  std::int64_t samples_per_epoch() const;  // of the cursor's epoch
  std::int64_t batches_per_epoch() const;  // steps in the cursor's epoch (global batches)
  std::int64_t global_batch_size() const { return options_.batch_size * options_.world_size; }
  std::int64_t seq_length() const { return options_.instances.max_seq_length; }
  std::int64_t max_predictions() const { return options_.masking.max_predictions_per_seq; }

  const SampleSource& source() const { return *source_; }
  const LoaderOptions& options() const { return options_; }

  // Builds this rank's batch of the step at `cursor` directly (no threads);
  // next() returns exactly this.
  PretrainBatch make_batch(const LoaderCursor& cursor) const;

 private:
  // The cursor after the step at `cursor`, moving to the next epoch when the
  // rest of this one cannot fill a global batch.
  LoaderCursor advance(LoaderCursor cursor) const;
  LoaderCursor normalize(LoaderCursor cursor) const;
  void start_workers();
  void stop_workers();
  void worker_loop();

  LoaderOptions options_;
  std::shared_ptr<const TokenCorpus> corpus_;
  std::unique_ptr<SampleSource> source_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;   // workers wait for room in the prefetch window
  std::condition_variable batch_ready_;  // next() waits for its batch
  LoaderCursor cursor_;                  // of the batch next() returns
  LoaderCursor issue_cursor_;            // of the next batch a worker starts
  std::int64_t next_ticket_ = 0;         // ticket of the next batch a worker starts
  std::int64_t consumed_ticket_ = 0;     // ticket of the batch next() returns
  std::map<std::int64_t, PretrainBatch> ready_;
  std::exception_ptr worker_error_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace bf::data
