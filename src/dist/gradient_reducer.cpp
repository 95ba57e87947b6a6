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

GradientReducer::GradientReducer(Collective& comm, std::vector<torch::Tensor> params, std::int64_t bucket_bytes,
                                 EmbeddingToSplit embedding)
    : comm_(comm),
      params_(std::move(params)),
      bucket_of_(params_.size()),
      arrived_(params_.size(), false),
      bucket_bytes_(bucket_bytes) {
  for (std::size_t k = 0; k < params_.size() && embedding.weight.defined(); ++k) {
    if (!params_[k].is_same(embedding.weight)) continue;
    embedding_ = std::make_unique<EmbeddingParts>();
    embedding_->param = k;
    embedding_->tied_decoder = embedding.tied_decoder;
    embedding_->looked_up = torch::zeros({params_[k].size(0)}, params_[k].options());
  }
  std::vector<std::size_t> reversed;
  for (std::size_t k = params_.size(); k-- > 0;)
    if (in_buckets(k)) reversed.push_back(k);
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
    if (!seen[k] && in_buckets(k)) order.push_back(static_cast<std::int64_t>(k));
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
  // Every rank's looked-up rows, summed while backward runs: the union
  // decides which rows finish() sums again.
  if (embedding_) embedding_->looked_up_wait = comm_.start_sum(embedding_->looked_up);
}

void GradientReducer::rows_looked_up(const torch::Tensor& input_ids) {
  if (!embedding_) return;
  torch::NoGradGuard no_grad;
  auto& mask = embedding_->looked_up;
  mask.index_fill_(0, input_ids.reshape({-1}).to(mask.device()), 1);
}

void GradientReducer::decoder_gradient(const torch::Tensor& grad) {
  if (!armed_ || !awaiting_dense()) return;
  start_embedding_dense(grad);
  const auto before = next_to_start_;
  start_ready_buckets();
  started_in_backward_ += 1 + next_to_start_ - before;
}

// What the parameter's gradient will be once the decoder's part is added,
// except in the looked-up rows: the earlier micro-batches' sum plus it.
void GradientReducer::start_embedding_dense(const torch::Tensor& decoder_part) {
  torch::NoGradGuard no_grad;
  auto& e = *embedding_;
  const auto& earlier = params_[e.param].grad();
  // A copy either way: the sum runs in place while autograd may still read decoder_part.
  e.dense = earlier.defined() ? earlier + decoder_part : decoder_part.clone();
  e.dense_wait = comm_.start_sum(e.dense);
}

void GradientReducer::on_gradient(std::size_t param) {
  if (!armed_ || arrived_[param]) return;
  arrived_[param] = true;
  if (!in_buckets(param)) return;  // the word embedding: finish() sums its rows
  arrival_order_.push_back(param);
  if (--buckets_[bucket_of_[param]].pending == 0) {
    const auto before = next_to_start_;
    start_ready_buckets();
    started_in_backward_ += next_to_start_ - before;
  }
}

void GradientReducer::start_ready_buckets() {
  if (awaiting_dense()) return;  // it goes first on every rank
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
    if (in_buckets(k)) --buckets_[bucket_of_[k]].pending;
  }
  // A step without the decoder (no MLM labels) still sums a dense part, as the other ranks may.
  if (awaiting_dense()) start_embedding_dense(torch::zeros_like(params_[embedding_->param]));
  start_ready_buckets();
  if (embedding_) start_embedding_rows();
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
  if (embedding_) finish_embedding(scale);
  if (!rebuilt_) rebuild_in_arrival_order();
}

// The rows any rank looked up, of the whole gradient, after the buckets.
void GradientReducer::start_embedding_rows() {
  auto& e = *embedding_;
  e.looked_up_wait();
  e.row_ids = e.looked_up.nonzero().squeeze(1);
  e.rows = params_[e.param].grad().index_select(0, e.row_ids);
  if (e.row_ids.numel() > 0) e.rows_wait = comm_.start_sum(e.rows);
}

void GradientReducer::finish_embedding(double scale) {
  auto& e = *embedding_;
  auto& g = params_[e.param].mutable_grad();
  if (e.dense_wait) {
    e.dense_wait();
    g = e.dense.mul_(scale);  // the summed tensor becomes the gradient: no copy of the table
  }
  if (e.rows_wait) {
    e.rows_wait();
    g.index_copy_(0, e.row_ids, e.rows.mul_(scale));
  }
  e.looked_up.zero_();
  e.looked_up_wait = e.dense_wait = e.rows_wait = nullptr;
  e.dense = e.rows = e.row_ids = torch::Tensor();
}

}  // namespace bf::dist
