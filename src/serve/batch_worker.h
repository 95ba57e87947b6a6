#pragma once
// The one thread that owns the model (run() on the thread that opened it). It takes the jobs of a due batch from
// the queue, plans their sequences by length into forwards bounded by
// max_batch_size and max_batch_tokens, runs them, and answers each job from
// its sequences' outputs. A forward that throws fails only the jobs with a
// sequence in it (500); jobs past their deadline are answered 503 and never
// run; the thread keeps serving either way.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "infer/model.h"
#include "serve/batch_queue.h"
#include "serve/metrics.h"

namespace bf::serve {

struct WorkerLimits {
  std::int64_t max_batch_size = 32;
  std::int64_t max_batch_tokens = 8192;
};

// Which sequences go into each forward: longest first (as `predict` plans
// them), cut where a forward would exceed either limit.
infer::BatchIndex plan_forwards(const std::vector<std::int64_t>& lengths, const WorkerLimits& limits);

class BatchWorker {
 public:
  BatchWorker(infer::Model& model, BatchQueue& queue, Metrics& metrics, WorkerLimits limits);
  // Runs forwards on the calling thread until the queue is closed and
  // everything queued is answered. Call it on the thread that opened the
  // model: libgomp gives every thread that starts a parallel region a team of
  // its own, and once it manages more threads than there are cores it stops
  // spinning between regions, so each GEMM waits for a sleeping helper
  // (BERT-base bf16 at batch 1: 28 ms a forward instead of 19 on 2 cores).
  void run();

 private:
  void run_jobs(std::vector<JobPtr> jobs);
  struct Slot {
    std::size_t job = 0;
    std::size_t sequence = 0;
  };
  void run_pass(const std::vector<JobPtr>& jobs);
  void run_forward(infer::Pass pass, const std::vector<infer::Sequence>& sequences, const std::vector<Slot>& slots,
                   const std::vector<std::int64_t>& forward, std::vector<std::vector<infer::SequenceOutputs>>& outputs,
                   std::vector<std::string>& failure);
  static void answer(QueuedJob& queued, std::vector<infer::SequenceOutputs>& outputs, const std::string& failure);

  infer::Model& model_;
  BatchQueue& queue_;
  Metrics& metrics_;
  WorkerLimits limits_;
  // Testing hook BERTFORGE_FAULT_FORWARD_DELAY_MS: every forward sleeps this
  // long first, so tests can hold requests in the queue (429, 503, SIGTERM).
  std::chrono::milliseconds forward_delay_;
};

}  // namespace bf::serve
