#include "serve/batch_queue.h"

#include <algorithm>

namespace bf::serve {

std::int64_t QueuedJob::longest() const {
  std::int64_t n = 0;
  for (const auto& ids : job.input_ids) n = std::max<std::int64_t>(n, static_cast<std::int64_t>(ids.size()));
  return n;
}

BatchQueue::BatchQueue(std::size_t max_queued, DuePolicy policy) : max_queued_(max_queued), policy_(policy) {}

bool BatchQueue::push(JobPtr job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  changed_.notify_one();
  return true;
}

bool BatchQueue::due(Clock::time_point now) const {
  if (jobs_.empty()) return false;
  if (closed_ || incoming_ == 0 || now >= jobs_.front()->arrived + policy_.max_wait) return true;
  std::int64_t sequences = 0, longest = 0;
  for (const auto& j : jobs_) {
    sequences += j->sequences();
    longest = std::max(longest, j->longest());
  }
  return sequences >= policy_.max_batch_size || sequences * longest >= policy_.max_batch_tokens;
}

std::vector<JobPtr> BatchQueue::take() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!due(Clock::now())) {
    if (closed_ && jobs_.empty()) return {};
    if (jobs_.empty()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, jobs_.front()->arrived + policy_.max_wait);
    }
  }
  // Whole jobs from the front (oldest first, so none starves) up to one
  // forward's worth; the worker cuts them into forwards by length.
  std::vector<JobPtr> out;
  std::int64_t sequences = 0, longest = 0;
  while (!jobs_.empty()) {
    const auto& next = jobs_.front();
    const auto s = sequences + next->sequences();
    const auto l = std::max(longest, next->longest());
    if (!out.empty() && (s > policy_.max_batch_size || s * l > policy_.max_batch_tokens)) break;
    sequences = s;
    longest = l;
    out.push_back(next);
    jobs_.pop_front();
  }
  return out;
}

BatchQueue::Incoming::Incoming(BatchQueue& queue) : queue_(&queue) {
  std::lock_guard<std::mutex> lock(queue.mutex_);
  ++queue.incoming_;
}

void BatchQueue::Incoming::done() {
  if (queue_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(queue_->mutex_);
    --queue_->incoming_;
  }
  queue_->changed_.notify_one();  // a partial batch waiting for this request may be due now
  queue_ = nullptr;
}

void BatchQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool BatchQueue::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

std::size_t BatchQueue::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

}  // namespace bf::serve
