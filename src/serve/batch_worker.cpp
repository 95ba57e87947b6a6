#include "serve/batch_worker.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <numeric>
#include <string>
#include <thread>

namespace bf::serve {
namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::chrono::milliseconds forward_delay_hook() {
  const char* text = std::getenv("BERTFORGE_FAULT_FORWARD_DELAY_MS");
  if (text == nullptr || *text == '\0') return std::chrono::milliseconds(0);
  spdlog::warn("testing hook BERTFORGE_FAULT_FORWARD_DELAY_MS={} is set: every forward is delayed", text);
  return std::chrono::milliseconds(std::strtoll(text, nullptr, 10));
}

}  // namespace

infer::BatchIndex plan_forwards(const std::vector<std::int64_t>& lengths, const WorkerLimits& limits) {
  std::vector<std::int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  infer::sort_longest_first(order.begin(), order.end(), lengths);
  infer::BatchIndex batches;
  for (const auto i : order) {
    // Longest first: a forward's padded size is its count times its first length.
    const bool fits = !batches.empty() && static_cast<std::int64_t>(batches.back().size()) < limits.max_batch_size &&
                      static_cast<std::int64_t>(batches.back().size() + 1) * lengths[static_cast<std::size_t>(batches.back()[0])] <=
                          limits.max_batch_tokens;
    if (!fits) batches.emplace_back();
    batches.back().push_back(i);
  }
  return batches;
}

BatchWorker::BatchWorker(infer::Model& model, BatchQueue& queue, Metrics& metrics, WorkerLimits limits)
    : model_(model),
      queue_(queue),
      metrics_(metrics),
      limits_(limits),
      forward_delay_(forward_delay_hook()) {}

void BatchWorker::run() {
  for (auto jobs = queue_.take(); !jobs.empty(); jobs = queue_.take()) {
    // Nothing escapes: an exception here would end the process, and every
    // job must be answered exactly once.
    try {
      run_jobs(std::move(jobs));
    } catch (const std::exception& e) {
      spdlog::error("serve: a batch failed outside its forwards: {}", e.what());
    }
  }
}

void BatchWorker::run_jobs(std::vector<JobPtr> jobs) {
  const auto now = Clock::now();
  std::vector<JobPtr> live[2];  // by pass: a forward runs one network
  for (auto& j : jobs) {
    if (j->abandoned) continue;
    if (now >= j->deadline) {
      j->reply.set_value(error_reply(503, "the request timed out in the queue", "Overloaded"));
      continue;
    }
    live[j->job.pass == infer::Pass::Head ? 0 : 1].push_back(j);
  }
  for (auto& same_pass : live)
    if (!same_pass.empty()) run_pass(same_pass);
}

void BatchWorker::run_pass(const std::vector<JobPtr>& jobs) {
  const auto pass = jobs.front()->job.pass;
  std::vector<infer::Sequence> sequences;
  std::vector<Slot> slots;
  std::vector<std::vector<infer::SequenceOutputs>> outputs(jobs.size());
  std::vector<std::string> failure(jobs.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    auto& job = jobs[j]->job;
    try {
      const auto own = infer::sequences_of(job.input_ids, job.token_type_ids);
      for (std::size_t s = 0; s < own.size(); ++s) {
        sequences.push_back(own[s]);
        slots.push_back({j, s});
      }
      outputs[j].resize(own.size());
    } catch (const std::exception& e) {
      failure[j] = e.what();
    }
  }
  std::vector<std::int64_t> lengths;
  for (const auto& s : sequences) lengths.push_back(s.size());
  for (const auto& forward : plan_forwards(lengths, limits_)) run_forward(pass, sequences, slots, forward, outputs, failure);
  for (std::size_t j = 0; j < jobs.size(); ++j) answer(*jobs[j], outputs[j], failure[j]);
}

void BatchWorker::run_forward(infer::Pass pass, const std::vector<infer::Sequence>& sequences,
                              const std::vector<Slot>& slots, const std::vector<std::int64_t>& forward,
                              std::vector<std::vector<infer::SequenceOutputs>>& outputs,
                              std::vector<std::string>& failure) {
  if (forward_delay_.count() > 0) std::this_thread::sleep_for(forward_delay_);
  const auto start = Clock::now();
  std::int64_t tokens = 0;
  try {
    const auto batch = infer::pad(sequences, forward, model_.pad_id());
    const auto out = infer::forward_batch(model_, batch, pass);
    for (std::size_t r = 0; r < forward.size(); ++r) {
      const auto i = static_cast<std::size_t>(forward[r]);
      outputs[slots[i].job][slots[i].sequence] = infer::cut(out, static_cast<std::int64_t>(r), sequences[i].size());
      tokens += sequences[i].size();
    }
  } catch (const std::exception& e) {
    // Only this forward's jobs fail; the others of the batch are answered.
    spdlog::warn("serve: a forward of {} sequences failed: {}", forward.size(), e.what());
    for (const auto i : forward) failure[slots[static_cast<std::size_t>(i)].job] = e.what();
    return;
  }
  metrics_.count_batch(static_cast<std::int64_t>(forward.size()), tokens, seconds_since(start));
}

void BatchWorker::answer(QueuedJob& queued, std::vector<infer::SequenceOutputs>& outputs, const std::string& failure) {
  if (!failure.empty()) {
    queued.reply.set_value(error_reply(500, "inference failed: " + failure, "Backend"));
    return;
  }
  try {
    queued.reply.set_value({200, queued.job.finish(outputs)});
  } catch (const std::exception& e) {
    queued.reply.set_value(reply_of(e));
  }
}

}  // namespace bf::serve
