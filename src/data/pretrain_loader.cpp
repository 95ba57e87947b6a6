#include "data/pretrain_loader.h"

#include "data/token_corpus.h"
#include "util/error.h"

namespace bf::data {

LoaderCursor LoaderCursor::from_json(const nlohmann::json& j) {
  try {
    LoaderCursor c;
    c.epoch = j.at("epoch").get<std::int64_t>();
    c.position = j.at("position").get<std::int64_t>();
    if (c.epoch < 0 || c.position < 0) bf::fail("negative field");
    return c;
  } catch (const nlohmann::json::exception& e) {
    bf::fail(std::string("data cursor: expected {\"epoch\": N, \"position\": N}: ") + e.what());
  }
}

LoaderOptions LoaderOptions::from_config(const DataConfig& config, std::int64_t batch_size, std::uint64_t seed,
                                         std::string split) {
  LoaderOptions o;
  o.data_dir = config.output;
  o.split = std::move(split);
  o.instances = InstanceOptions::from(config);
  o.masking = MaskingOptions::from(config);
  o.batch_size = batch_size;
  o.seed = seed;
  o.num_threads = static_cast<std::int32_t>(config.loader_threads);
  o.prefetch = static_cast<std::int32_t>(config.prefetch_batches);
  return o;
}

PretrainLoader::PretrainLoader(LoaderOptions options, LoaderCursor start) : options_(std::move(options)) {
  if (options_.batch_size <= 0) bf::fail("data loader: batch_size must be > 0");
  if (options_.world_size <= 0 || options_.rank < 0 || options_.rank >= options_.world_size) {
    bf::fail("data loader: rank " + std::to_string(options_.rank) + " is not in [0, world_size " +
             std::to_string(options_.world_size) + ")");
  }
  if (options_.instances.max_seq_length < 8) bf::fail("data loader: max_seq_length must be >= 8");
  corpus_ = TokenCorpus::open(options_.data_dir, options_.split,
                              options_.tokenizer ? &*options_.tokenizer : nullptr, options_.verify_checksums);
  const TokenizerInfo tokenizer = options_.tokenizer ? *options_.tokenizer : corpus_->manifest().tokenizer;
  SampleOptions sample_options;
  sample_options.instances = options_.instances;
  sample_options.masking = options_.masking;
  sample_options.seed = options_.seed;
  sample_options.build_seed = 0;
  // Static instances belong to the build: they follow its seed, not the run's.
  const std::string& yaml = corpus_->manifest().config_yaml;
  if (!yaml.empty()) {
    const YAML::Node recorded = YAML::Load(yaml);
    if (recorded["seed"]) sample_options.build_seed = recorded["seed"].as<std::uint64_t>();
  }
  sample_options.shuffle = options_.shuffle;
  source_ = std::make_unique<SampleSource>(corpus_, sample_options, tokenizer);
  if (source_->samples_in_epoch(0) < global_batch_size()) {
    bf::fail("data loader: the " + options_.split + " split of " + options_.data_dir + " makes " +
             std::to_string(source_->samples_in_epoch(0)) + " sequences per epoch, fewer than one global batch (" +
             std::to_string(global_batch_size()) + "); use more data or a smaller batch");
  }
  cursor_ = normalize(start);
  issue_cursor_ = cursor_;
  start_workers();
}

PretrainLoader::~PretrainLoader() { stop_workers(); }

LoaderCursor PretrainLoader::normalize(LoaderCursor cursor) const {
  // A cursor saved at the end of an epoch (or by a run with a smaller global
  // batch) may not leave room for one more step there.
  while (cursor.position + global_batch_size() > source_->samples_in_epoch(cursor.epoch)) {
    cursor = {cursor.epoch + 1, 0};
  }
  return cursor;
}

LoaderCursor PretrainLoader::advance(LoaderCursor cursor) const {
  cursor.position += global_batch_size();
  return normalize(cursor);
}

LoaderCursor PretrainLoader::cursor() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cursor_;
}

std::int64_t PretrainLoader::samples_per_epoch() const { return source_->samples_in_epoch(cursor().epoch); }

std::int64_t PretrainLoader::batches_per_epoch() const { return samples_per_epoch() / global_batch_size(); }

PretrainBatch PretrainLoader::make_batch(const LoaderCursor& cursor) const {
  const auto plan = source_->plan(cursor.epoch);
  const std::int64_t first = cursor.position + options_.rank * options_.batch_size;
  std::vector<Sample> samples(static_cast<std::size_t>(options_.batch_size));
  std::vector<const Sample*> rows;
  rows.reserve(samples.size());
  for (std::int64_t i = 0; i < options_.batch_size; ++i) {
    source_->sample(*plan, cursor.epoch, first + i, samples[static_cast<std::size_t>(i)]);
    rows.push_back(&samples[static_cast<std::size_t>(i)]);
  }
  PretrainBatch batch = collate(rows, seq_length(), max_predictions(), source_->tokenizer().special.pad);
  batch.epoch = cursor.epoch;
  batch.position = cursor.position;
  return batch;
}

PretrainBatch PretrainLoader::next() {
  if (workers_.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    PretrainBatch batch = make_batch(cursor_);
    cursor_ = advance(cursor_);
    return batch;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  batch_ready_.wait(lock, [&] { return worker_error_ || ready_.count(consumed_ticket_) > 0; });
  if (worker_error_) std::rethrow_exception(worker_error_);
  auto it = ready_.find(consumed_ticket_);
  PretrainBatch batch = std::move(it->second);
  ready_.erase(it);
  ++consumed_ticket_;
  cursor_ = advance(cursor_);
  lock.unlock();
  work_ready_.notify_all();
  return batch;
}

void PretrainLoader::restore(const LoaderCursor& cursor) {
  if (cursor.epoch < 0 || cursor.position < 0) bf::fail("data cursor: negative epoch or position");
  stop_workers();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cursor_ = normalize(cursor);
    issue_cursor_ = cursor_;
    ready_.clear();
    next_ticket_ = consumed_ticket_ = 0;
    worker_error_ = nullptr;
  }
  start_workers();
}

void PretrainLoader::start_workers() {
  stopping_ = false;
  for (std::int32_t t = 0; t < options_.num_threads; ++t) workers_.emplace_back([this] { worker_loop(); });
}

void PretrainLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void PretrainLoader::worker_loop() {
  while (true) {
    std::int64_t ticket = 0;
    LoaderCursor at;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || next_ticket_ < consumed_ticket_ + options_.prefetch; });
      if (stopping_) return;
      ticket = next_ticket_++;
      at = issue_cursor_;
      issue_cursor_ = advance(issue_cursor_);
    }
    try {
      PretrainBatch batch = make_batch(at);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.emplace(ticket, std::move(batch));
      }
      batch_ready_.notify_all();
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!worker_error_) worker_error_ = std::current_exception();
      }
      batch_ready_.notify_all();
      return;
    }
  }
}

}  // namespace bf::data
