#pragma once
// What every route shares: the model, the settings, the queue to its worker,
// the counters. HTTP threads read, validate and tokenize a request into a
// job, queue it and wait for the worker's answer until the job's deadline.
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "infer/job.h"
#include "infer/model.h"
#include "serve/batch_queue.h"
#include "serve/metrics.h"
#include "serve/reply.h"
#include "serve/serve_config.h"

namespace bf::serve {

// A head's typed request: /predict's body read for the model's head (and
// the server's limits), as a job; finetune's task table holds one per head.
// Throws infer::RequestError.
using PredictRequest = std::function<infer::Job<nlohmann::json>(infer::Model& model, const nlohmann::json& body)>;

struct Service {
  infer::Model& model;
  const ServeConfig& config;
  BatchQueue& queue;
  Metrics& metrics;
  PredictRequest predict;  // empty: a bare encoder, /predict has nothing to run
  std::atomic<bool> stopping{false};
};

// Queues `job` and waits for its answer: 429 when the queue is full, 503 when
// it is not answered by its deadline or the server is stopping. `incoming`
// (announced before the request was read) ends once the job is queued.
Reply submit(Service& service, infer::Job<nlohmann::json> job, BatchQueue::Incoming& incoming);

}  // namespace bf::serve
