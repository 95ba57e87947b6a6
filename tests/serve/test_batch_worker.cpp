#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "infer/request_error.h"
#include "serve/batch_worker.h"

// The worker in-process on a fake head whose forward sums each row's ids
// and throws when it sees id 666, so failures and plans are deterministic.

using namespace bf;
using json = nlohmann::json;

namespace {

infer::Model fake_model() {
  infer::Head head;
  head.architecture = model::Architecture::SequenceClassification;
  head.forward = [](torch::nn::Module&, const torch::Tensor& ids, const torch::Tensor&, const torch::Tensor&) {
    if ((ids == 666).any().item<bool>()) throw std::runtime_error("poisoned batch");
    infer::Outputs out;
    out.logits = ids.sum(1, /*keepdim=*/true).to(torch::kFloat32);
    return out;
  };
  model::BertConfig config;
  config.pad_token_id = 0;
  return infer::Model(config, nullptr, head, torch::nn::Linear(1, 1).ptr(), torch::kCPU);
}

serve::JobPtr job_of(std::vector<std::vector<std::int32_t>> ids, std::chrono::milliseconds deadline_in = std::chrono::seconds(10)) {
  auto queued = std::make_shared<serve::QueuedJob>();
  queued->job.input_ids = std::move(ids);
  queued->job.finish = [](std::vector<infer::SequenceOutputs>& outputs) {
    json sums = json::array();
    for (const auto& o : outputs) sums.push_back(o.logits.item<float>());
    return sums;
  };
  queued->arrived = serve::Clock::now();
  queued->deadline = queued->arrived + deadline_in;
  return queued;
}

}  // namespace

TEST_CASE("forwards are planned longest first within max_batch_size and max_batch_tokens", "[serve][worker]") {
  const auto plan = serve::plan_forwards({3, 10, 5, 10, 1}, {2, 15});
  CHECK(plan == infer::BatchIndex{{1}, {3}, {2, 0}, {4}});
  CHECK(serve::plan_forwards({4, 4, 4}, {8, 1000}) == infer::BatchIndex{{0, 1, 2}});
  CHECK(serve::plan_forwards({50}, {8, 10}) == infer::BatchIndex{{0}});  // one sequence always runs
}

TEST_CASE("a failing forward fails only its jobs, late jobs get 503, the worker keeps serving", "[serve][worker]") {
  auto model = fake_model();
  serve::Metrics metrics;
  serve::BatchQueue queue(16, {2, 1000, std::chrono::milliseconds(1)});
  // Queued before the worker starts, so each take is known: [a], [bad, mate], [late], [d], [invalid].
  auto a = job_of({{1, 2, 3}, {4, 5}});
  auto bad = job_of({{666, 1}});
  auto mate = job_of({{7}});
  auto late = job_of({{1}}, std::chrono::milliseconds(-1));
  auto d = job_of({{2, 2}});
  auto invalid = job_of({{3}});
  invalid->job.finish = [](std::vector<infer::SequenceOutputs>&) -> json {
    throw infer::RequestError(infer::RequestError::Kind::Invalid, "inputs[0]", "no");
  };
  std::vector<serve::JobPtr> jobs = {a, bad, mate, late, d, invalid};
  std::vector<std::future<serve::Reply>> replies;
  for (auto& j : jobs) {
    replies.push_back(j->reply.get_future());
    REQUIRE(queue.push(j));
  }
  queue.close();
  serve::BatchWorker(model, queue, metrics, {2, 1000}).run();
  std::vector<serve::Reply> got;
  for (auto& r : replies) got.push_back(r.get());
  CHECK(got[0].status == 200);
  CHECK(got[0].body == json::array({6.0, 9.0}));
  CHECK(got[1].status == 500);
  CHECK(got[1].body["error_type"] == "Backend");
  CHECK(got[2].status == 500);  // its batch-mate
  CHECK(got[3].status == 503);
  CHECK(got[4].status == 200);
  CHECK(got[4].body == json::array({4.0}));
  CHECK(got[5].status == 422);
  CHECK(queue.depth() == 0);
}

TEST_CASE("a full queue refuses at once, a closed one takes nothing more", "[serve][worker]") {
  serve::BatchQueue queue(2, {8, 1000, std::chrono::milliseconds(1)});
  CHECK(queue.push(job_of({{1}})));
  CHECK(queue.push(job_of({{1}})));
  CHECK_FALSE(queue.push(job_of({{1}})));
  CHECK(queue.depth() == 2);
  queue.close();
  CHECK_FALSE(queue.push(job_of({{1}})));
  CHECK(queue.take().size() == 2);  // what was queued is still answered
  CHECK(queue.take().empty());
}

TEST_CASE("a partial batch waits for batch-mates only while a request is being read", "[serve][worker]") {
  using std::chrono::milliseconds;
  serve::BatchQueue queue(8, {8, 1000, milliseconds(300)});
  const auto taken_after = [&queue] {
    const auto start = serve::Clock::now();
    const auto jobs = queue.take();
    return std::make_pair(jobs.size(), std::chrono::duration<double>(serve::Clock::now() - start).count());
  };
  SECTION("nothing else coming: due at once, a lone client pays no wait") {
    REQUIRE(queue.push(job_of({{1}})));
    const auto [jobs, seconds] = taken_after();
    CHECK(jobs == 1);
    CHECK(seconds < 0.2);
  }
  SECTION("another request being read: waits for it, and takes both") {
    auto coming = std::make_unique<serve::BatchQueue::Incoming>(queue);
    REQUIRE(queue.push(job_of({{1}})));
    std::thread reader([&] {
      std::this_thread::sleep_for(milliseconds(50));
      REQUIRE(queue.push(job_of({{2}})));
      coming->done();
    });
    const auto [jobs, seconds] = taken_after();
    reader.join();
    CHECK(jobs == 2);
    CHECK(seconds >= 0.04);
    CHECK(seconds < 0.29);  // due when the reader was done, not at max_wait
  }
  SECTION("a request being read that never arrives: the wait ends at max_wait") {
    serve::BatchQueue::Incoming stuck(queue);
    REQUIRE(queue.push(job_of({{1}})));
    const auto [jobs, seconds] = taken_after();
    CHECK(jobs == 1);
    CHECK(seconds >= 0.29);
  }
}
