#include "serve/service.h"

namespace bf::serve {

Reply submit(Service& service, infer::Job<nlohmann::json> job, BatchQueue::Incoming& incoming) {
  if (service.stopping) return error_reply(503, "the server is shutting down", "Unhealthy");
  auto queued = std::make_shared<QueuedJob>();
  queued->job = std::move(job);
  queued->arrived = Clock::now();
  queued->deadline = queued->arrived + std::chrono::milliseconds(service.config.request_timeout_ms);
  auto answer = queued->reply.get_future();
  const bool queued_ok = service.queue.push(queued);
  incoming.done();
  if (!queued_ok) {
    if (service.queue.closed()) return error_reply(503, "the server is shutting down", "Unhealthy");
    return error_reply(429, "the queue is full (" + std::to_string(service.config.max_queued) +
                                " requests waiting); retry later",
                       "Overloaded");
  }
  if (answer.wait_until(queued->deadline) != std::future_status::ready) {
    queued->abandoned = true;  // the worker skips it if it has not run yet
    return error_reply(503, "the request was not answered within " +
                                std::to_string(service.config.request_timeout_ms) + " ms",
                       "Overloaded");
  }
  return answer.get();
}

}  // namespace bf::serve
