// The gradient reducer against a stand-in for two ranks: buckets start during
// backward, in index order, each parameter once, and the averages land in
// .grad.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "dist/gradient_reducer.h"
#include "model/any_bert.h"
#include "model/bert_for_pretraining.h"
#include "model/word_embedding_gradient.h"

namespace {

// Two ranks whose other rank holds gradients equal to this one's times
// `other`: a sum is x * (1 + other), finished only when waited for. Records
// when each sum starts, relative to a backward in progress.
struct TwoRanks : bf::dist::Collective {
  double other = 3.0;
  bool in_backward = false;
  std::vector<std::int64_t> started_sizes;
  int started_in_backward = 0;
  int waited = 0;
  int world_size() const override { return 2; }
  std::function<void()> start_sum(torch::Tensor flat) override {
    started_sizes.push_back(flat.numel());
    if (in_backward) ++started_in_backward;
    return [this, flat]() mutable {
      flat.mul_(1.0 + other);
      ++waited;
    };
  }
};

struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(8, 16));
    b = register_module("b", torch::nn::Linear(16, 16));
    c = register_module("c", torch::nn::Linear(16, 4));
    unused = register_module("unused", torch::nn::Linear(4, 4));
  }
  torch::Tensor forward(const torch::Tensor& x) { return c(torch::relu(b(torch::relu(a(x))))); }
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr}, unused{nullptr};
};

}  // namespace

TEST_CASE("gradient reducer starts buckets during backward and averages into .grad", "[dist][reducer]") {
  torch::manual_seed(4);
  Net net;
  TwoRanks comm;
  // 64 floats per bucket: b's weight (256 floats) has its own; the rest pair up.
  bf::dist::GradientReducer reducer(comm, net.parameters(), 64 * 4);
  CHECK(reducer.bucket_count() >= 4);
  std::int64_t parameter_count = 0;
  for (const auto& p : net.parameters()) parameter_count += p.numel();

  for (int step = 1; step <= 3; ++step) {
    INFO("step " << step);
    auto x = torch::randn({5, 8});
    // Local gradients of two micro-batches, for reference.
    for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();
    net.forward(x).pow(2).sum().backward();
    net.forward(x * 2).pow(2).sum().backward();
    std::vector<torch::Tensor> local;
    for (auto& p : net.parameters()) local.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();

    // The same two micro-batches with the reducer: only the last backward is armed.
    comm.started_sizes.clear();
    comm.started_in_backward = comm.waited = 0;
    net.forward(x).pow(2).sum().backward();
    CHECK(comm.started_sizes.empty());
    reducer.arm();
    comm.in_backward = true;
    net.forward(x * 2).pow(2).sum().backward();
    comm.in_backward = false;
    CHECK(comm.waited == 0);  // nothing waited for inside backward
    CHECK(reducer.started_during_backward() == static_cast<std::size_t>(comm.started_in_backward));
    // The unused layer is registered last, so it opens the first bucket and
    // holds every bucket back in step 1; from step 2 the buckets follow the
    // gradients' arrival, the unused layer last.
    if (step == 1) CHECK(comm.started_in_backward == 0);
    if (step > 1) CHECK(comm.started_in_backward == static_cast<int>(reducer.bucket_count()) - 1);
    const auto buckets = static_cast<int>(reducer.bucket_count());  // step 1's finish rebuilds them
    reducer.finish();
    CHECK(comm.waited == buckets);
    CHECK(static_cast<int>(comm.started_sizes.size()) == buckets);

    // Every parameter summed exactly once (the unused layer's zeros included).
    std::int64_t total = 0;
    for (auto n : comm.started_sizes) total += n;
    CHECK(total == parameter_count);

    // The mean of this rank's gradient and the other's (other x this one).
    const auto params = net.parameters();
    for (std::size_t k = 0; k < params.size(); ++k) {
      INFO("parameter " << k);
      REQUIRE(params[k].grad().defined());
      CHECK(torch::allclose(params[k].grad(), local[k] * (1.0 + comm.other) / 2.0, 1e-6, 1e-7));
    }
    CHECK(net.unused->weight.grad().abs().sum().item<double>() == 0.0);
  }
}

TEST_CASE("gradient reducer's hooks go with it", "[dist][reducer]") {
  Net net;
  TwoRanks comm;
  {
    bf::dist::GradientReducer reducer(comm, net.parameters(), 1 << 20);
    reducer.arm();
  }
  net.forward(torch::randn({2, 8})).sum().backward();  // would call into a dead reducer
  CHECK(comm.started_sizes.empty());
}

namespace {

// A tiny BERT without dropout, so that backward is the same each time.
std::shared_ptr<torch::nn::Module> tiny_bert(bf::model::Architecture arch) {
  auto config = bf::model::BertConfig::preset("tiny");
  config.vocab_size = 300;
  config.hidden_size = 32;
  config.num_attention_heads = 2;
  config.intermediate_size = 64;
  config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0;
  return bf::model::make_model(config, arch);
}

// The loss of a micro-batch whose ids come from [low, high): pretraining's
// (tied decoder) or, for the bare encoder, a function of its hidden states.
torch::Tensor tiny_loss(torch::nn::Module& net, std::int64_t low, std::int64_t high, std::vector<torch::Tensor>& ids) {
  bf::model::PreTrainingInputs in;
  in.input_ids = torch::randint(low, high, {4, 12}, torch::kLong);
  ids.push_back(in.input_ids.reshape({-1}));
  in.token_type_ids = torch::zeros({4, 12}, torch::kLong);
  in.attention_mask = torch::ones({4, 12}, torch::kLong);
  if (auto* encoder = net.as<bf::model::BertModel>())
    return encoder->forward(in.input_ids, in.token_type_ids, in.attention_mask).last_hidden_state.pow(2).sum();
  in.masked_positions = torch::randint(0, 12, {4, 3}, torch::kLong);
  in.masked_labels = torch::randint(5, 300, {4, 3}, torch::kLong);
  in.next_sentence_label = torch::randint(0, 2, {4}, torch::kLong);
  return net.as<bf::model::BertForPreTraining>()->forward(in).loss;
}

}  // namespace

TEST_CASE("gradient reducer: the word embedding's decoder part during backward, its looked-up rows after",
          "[dist][reducer]") {
  for (auto arch : {bf::model::Architecture::PreTraining, bf::model::Architecture::Encoder}) {
    const bool tied = arch == bf::model::Architecture::PreTraining;
    INFO((tied ? "tied decoder" : "encoder only"));
    torch::manual_seed(5);
    auto net = tiny_bert(arch);
    const auto embedding = bf::model::find_word_embedding(*net);
    REQUIRE(embedding.weight.defined());
    CHECK(embedding.tied_decoder == tied);
    const auto vocab = embedding.weight.size(0), hidden = embedding.weight.size(1);
    std::int64_t parameter_count = 0;
    for (const auto& p : net->parameters()) parameter_count += p.numel();

    TwoRanks comm;
    bf::dist::GradientReducer reducer(comm, net->parameters(), 1 << 20, {embedding.weight, embedding.tied_decoder});
    bf::model::set_word_embedding_gradient_hooks(
        *net, {[&](const torch::Tensor& ids) { reducer.rows_looked_up(ids); },
               [&](const torch::Tensor& grad) { reducer.decoder_gradient(grad); }});
    for (int step = 1; step <= 2; ++step) {
      INFO("step " << step);
      // Two micro-batches over different rows; rows from 200 on are never looked up.
      const std::int64_t low1 = 5 + step, high1 = 100, low2 = 100, high2 = 150 + 10 * step;
      const auto seed = 100 + step;
      for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
      torch::manual_seed(seed);
      std::vector<torch::Tensor> ids;
      tiny_loss(*net, low1, high1, ids).backward();
      tiny_loss(*net, low2, high2, ids).backward();
      const auto looked_up = std::get<0>(at::_unique(torch::cat(ids))).numel();
      std::vector<torch::Tensor> local;
      for (auto& p : net->parameters()) local.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
      for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();

      comm.started_sizes.clear();
      comm.started_in_backward = 0;
      torch::manual_seed(seed);
      tiny_loss(*net, low1, high1, ids).backward();
      auto last = tiny_loss(*net, low2, high2, ids);
      reducer.arm();
      comm.in_backward = true;
      last.backward();
      comm.in_backward = false;
      reducer.finish();

      // The union of looked-up rows, first (at arm()); the dense part next,
      // during backward; the looked-up rows last; the table in no bucket.
      REQUIRE(comm.started_sizes.size() >= 3);
      CHECK(comm.started_sizes.front() == vocab);
      if (tied) {
        CHECK(comm.started_sizes[1] == vocab * hidden);
        CHECK(comm.started_in_backward == static_cast<int>(reducer.bucket_count()) + 1);
      }
      CHECK(comm.started_sizes.back() == looked_up * hidden);
      std::int64_t total = 0;
      for (auto n : comm.started_sizes) total += n;
      CHECK(total == vocab + (tied ? vocab * hidden : 0) + parameter_count - vocab * hidden + looked_up * hidden);

      // Exactly the mean of this rank's whole gradients and the other's.
      const auto params = net->parameters();
      for (std::size_t k = 0; k < params.size(); ++k) {
        INFO("parameter " << k);
        CHECK(torch::equal(params[k].grad(), local[k] * (1.0 + comm.other) / 2.0));
      }
      const auto never = embedding.weight.grad().narrow(0, 200, vocab - 200);
      CHECK((never.abs().sum().item<double>() > 0) == tied);
    }
    bf::model::set_word_embedding_gradient_hooks(*net, {});
  }
}
