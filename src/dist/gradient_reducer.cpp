#include "dist/gradient_reducer.h"

#include <algorithm>
#include <cstdint>

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

namespace bf::dist {

struct GradientReducer::Hook {
  std::shared_ptr<torch::autograd::Node> accumulator;  // held, or autograd would drop the hook with it
  std::uintptr_t key = 0;
};

GradientReducer::GradientReducer(Collective& comm, std::vector<torch::Tensor> params, std::int64_t bucket_bytes)
    : comm_(comm),
      params_(std::move(params)),
      bucket_of_(params_.size()),
      arrived_(params_.size(), false),
      bucket_bytes_(bucket_bytes) {
  std::vector<std::size_t> reversed;
  for (std::size_t k = params_.size(); k-- > 0;) reversed.push_back(k);
  build_buckets(reversed);
  for (std::size_t k = 0; k < params_.size(); ++k) {
    Hook hook;
    hook.accumulator = torch::autograd::impl::grad_accumulator(params_[k]);
    hook.key = hook.accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, k](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          on_gradient(k);
          return outputs;
        }));
    hooks_.push_back(std::move(hook));
  }
}

void GradientReducer::build_buckets(const std::vector<std::size_t>& order) {
  buckets_.clear();
  std::int64_t bytes = 0;
  for (auto k : order) {
    const auto& p = params_[k];
    const auto b = static_cast<std::int64_t>(p.numel() * p.element_size());
    const bool fits = !buckets_.empty() && bytes + b <= bucket_bytes_ &&
                      params_[buckets_.back().params.front()].scalar_type() == p.scalar_type() &&
                      params_[buckets_.back().params.front()].device() == p.device();
    if (!fits) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().params.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += b;
  }
}

// Rank 0's arrival order, broadcast so that every rank builds the same buckets.
void GradientReducer::rebuild_in_arrival_order() {
  std::vector<std::int64_t> order(arrival_order_.begin(), arrival_order_.end());
  std::vector<bool> seen(params_.size(), false);
  for (auto k : arrival_order_) seen[k] = true;
  for (std::size_t k = params_.size(); k-- > 0;)
    if (!seen[k]) order.push_back(static_cast<std::int64_t>(k));
  std::vector<torch::Tensor> shared{torch::tensor(order, torch::kInt64)};
  comm_.broadcast(shared);
  const auto* agreed = shared[0].data_ptr<std::int64_t>();
  build_buckets(std::vector<std::size_t>(agreed, agreed + shared[0].numel()));
  rebuilt_ = true;
}

GradientReducer::~GradientReducer() {
  for (auto& hook : hooks_) hook.accumulator->del_post_hook(hook.key);
}

void GradientReducer::arm() {
  armed_ = true;
  next_to_start_ = 0;
  started_in_backward_ = 0;
  std::fill(arrived_.begin(), arrived_.end(), false);
  arrival_order_.clear();
  for (auto& bucket : buckets_) {
    bucket.pending = bucket.params.size();
    bucket.flat = torch::Tensor();
    bucket.wait = nullptr;
  }
}

void GradientReducer::on_gradient(std::size_t param) {
  if (!armed_ || arrived_[param]) return;
  arrived_[param] = true;
  arrival_order_.push_back(param);
  if (--buckets_[bucket_of_[param]].pending == 0) {
    const auto before = next_to_start_;
    start_ready_buckets();
    started_in_backward_ += next_to_start_ - before;
  }
}

void GradientReducer::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].pending == 0) start(buckets_[next_to_start_++]);
}

void GradientReducer::start(Bucket& bucket) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> views;
  for (auto k : bucket.params) views.push_back(params_[k].grad().reshape({-1}));
  bucket.flat = torch::cat(views);
  bucket.wait = comm_.start_sum(bucket.flat);
}

void GradientReducer::finish() {
  torch::NoGradGuard no_grad;
  armed_ = false;
  for (std::size_t k = 0; k < params_.size(); ++k) {
    if (arrived_[k]) continue;
    auto& p = params_[k];
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    arrived_[k] = true;
    --buckets_[bucket_of_[k]].pending;
  }
  start_ready_buckets();
  const double scale = 1.0 / comm_.world_size();
  for (auto& bucket : buckets_) {
    bucket.wait();
    bucket.flat.mul_(scale);
    std::int64_t offset = 0;
    for (auto k : bucket.params) {
      auto& g = params_[k].mutable_grad();
      g.copy_(bucket.flat.narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    bucket.flat = torch::Tensor();
    bucket.wait = nullptr;
  }
  if (!rebuilt_) rebuild_in_arrival_order();
}

}  // namespace bf::dist
