#pragma once
// Averages gradients over ranks while backward is still running, as
// PyTorch's DistributedDataParallel does: parameters go into buckets of about
// bucket_bytes, and a bucket's all-reduce starts as soon as its last gradient
// has been accumulated (a post hook on each parameter's gradient
// accumulator). Buckets start in index order on every rank, whatever order
// their gradients arrive in, so the collectives pair up across ranks.
//
// The first step's buckets follow reverse registration order (roughly the
// order backward produces gradients); after it, as DDP does, the buckets are
// rebuilt in the order rank 0's gradients actually arrived, parameters that
// got none last (a pooler without NSP would otherwise hold up the first
// bucket, and with it all the others, until backward ends).
//
// The word embedding (model/word_embedding_gradient.h) is no bucket's: its
// gradient is the lookup's rows plus, when pretraining ties the decoder to
// it, a dense part backward produces first. The dense part is summed as soon
// as it comes (before any bucket); after backward only the rows some rank
// looked up are summed again, whole. Rows no rank looked up have a lookup
// part of exactly zero everywhere, so both ways give every row the sum it
// would have had as one tensor.
//
// The sums are elementwise, so the result has the same bits as averaging
// after backward; only the waiting moves.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "dist/collective.h"

namespace bf::dist {

// The word embedding to reduce in parts, if any: one of the parameters.
struct EmbeddingToSplit {
  torch::Tensor weight;
  bool tied_decoder = false;  // decoder_gradient() will be called in each armed backward
};

class GradientReducer {
 public:
  GradientReducer(Collective& comm, std::vector<torch::Tensor> params, std::int64_t bucket_bytes,
                  EmbeddingToSplit embedding = {});
  ~GradientReducer();  // removes the hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // The next backward is the step's last (with gradient accumulation the
  // earlier ones only add up locally): start buckets as they fill.
  void arm();
  // After that backward: a gradient this rank did not produce counts as zero
  // (every rank reduces the same tensors), the remaining buckets start, all
  // are waited for, and every .grad holds the mean over ranks.
  void finish();

  // From the model's hooks: every training forward's input ids (from the
  // step's first micro-batch on) and, in backward, the tied decoder's part.
  void rows_looked_up(const torch::Tensor& input_ids);
  void decoder_gradient(const torch::Tensor& grad);

  std::size_t bucket_count() const { return buckets_.size(); }
  // Buckets started by the hooks during the last backward (the overlap).
  std::size_t started_during_backward() const { return started_in_backward_; }

 private:
  struct Bucket {
    std::vector<std::size_t> params;  // indexes into params_
    std::size_t pending = 0;          // gradients still to come in this backward
    torch::Tensor flat;
    std::function<void()> wait;
  };
  void build_buckets(const std::vector<std::size_t>& order);
  void rebuild_in_arrival_order();
  void on_gradient(std::size_t param);
  void start_ready_buckets();
  void start(Bucket& bucket);
  void start_embedding_dense(const torch::Tensor& decoder_part);
  void start_embedding_rows();
  void finish_embedding(double scale);
  bool in_buckets(std::size_t param) const { return !embedding_ || embedding_->param != param; }
  // The tied decoder's dense part is still to be started (before any bucket).
  bool awaiting_dense() const { return embedding_ && embedding_->tied_decoder && !embedding_->dense_wait; }

  Collective& comm_;
  std::vector<torch::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // param index -> bucket index
  std::vector<bool> arrived_;           // param's gradient accumulated in this backward
  std::vector<std::size_t> arrival_order_;
  std::int64_t bucket_bytes_;
  bool rebuilt_ = false;
  std::size_t next_to_start_ = 0;
  std::size_t started_in_backward_ = 0;
  bool armed_ = false;

  struct EmbeddingParts {
    std::size_t param = 0;  // index into params_
    bool tied_decoder = false;
    torch::Tensor looked_up;       // [V] 1 where this rank's step looked a row up; summed at arm()
    std::function<void()> looked_up_wait;
    torch::Tensor dense;           // the gradient up to the decoder's part, summed whole
    std::function<void()> dense_wait;
    torch::Tensor rows;            // [rows any rank looked up] of the final gradient, summed
    torch::Tensor row_ids;
    std::function<void()> rows_wait;
  };
  std::unique_ptr<EmbeddingParts> embedding_;
  struct Hook;
  std::vector<Hook> hooks_;
};

}  // namespace bf::dist
