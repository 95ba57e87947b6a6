#pragma once
// Requests waiting for the model. Bounded: a full queue refuses at once (the
// client gets 429) instead of growing until memory runs out. A batch is due
// when the queued sequences fill a forward (max_batch_size sequences or
// max_batch_tokens padded tokens), when the oldest request has waited
// max_wait, or when no other request is being read (nothing could join it,
// so a lone client pays no wait); the worker then takes the jobs of one
// forward from the front.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "infer/job.h"
#include "serve/reply.h"

namespace bf::serve {

using Clock = std::chrono::steady_clock;

// A request's job in the queue, with its deadline and the promise its HTTP
// thread waits on.
struct QueuedJob {
  infer::Job<nlohmann::json> job;
  Clock::time_point arrived;
  Clock::time_point deadline;
  std::promise<Reply> reply;
  std::atomic<bool> abandoned{false};  // the HTTP thread answered 503 and left

  std::int64_t sequences() const { return static_cast<std::int64_t>(job.input_ids.size()); }
  std::int64_t longest() const;
};
using JobPtr = std::shared_ptr<QueuedJob>;

struct DuePolicy {
  std::int64_t max_batch_size = 32;
  std::int64_t max_batch_tokens = 8192;
  std::chrono::milliseconds max_wait{5};
};

class BatchQueue {
 public:
  BatchQueue(std::size_t max_queued, DuePolicy policy);

  // false when full or closed: nothing was queued.
  bool push(JobPtr job);
  // Blocks until a batch is due, then takes the jobs of one forward (at least
  // one job; whole jobs). Empty once closed and drained. After close() what
  // is queued is due at once.
  std::vector<JobPtr> take();
  void close();
  bool closed() const;
  std::size_t depth() const;

  // A request an HTTP thread is reading into a job: while one is, a partial
  // batch waits (up to max_wait) for it. Ends at push, or when the request
  // fails before it.
  class Incoming {
   public:
    explicit Incoming(BatchQueue& queue);
    ~Incoming() { done(); }
    Incoming(const Incoming&) = delete;
    Incoming& operator=(const Incoming&) = delete;
    void done();

   private:
    BatchQueue* queue_;
  };

 private:
  bool due(Clock::time_point now) const;  // under mutex_

  const std::size_t max_queued_;
  const DuePolicy policy_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<JobPtr> jobs_;
  std::int64_t incoming_ = 0;  // requests being read into jobs (Incoming)
  bool closed_ = false;
};

}  // namespace bf::serve
