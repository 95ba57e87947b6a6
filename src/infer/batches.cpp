#include "infer/batches.h"

#include <algorithm>
#include <numeric>

namespace bf::infer {
namespace {

// Sets eval mode for its lifetime and restores the mode found.
class EvalMode {
 public:
  explicit EvalMode(torch::nn::Module& m) : module_(m), training_(m.is_training()) { m.eval(); }
  ~EvalMode() { module_.train(training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  torch::nn::Module& module_;
  bool training_;
};

}  // namespace

PaddedBatch pad(const std::vector<Sequence>& sequences, const std::vector<std::int64_t>& index, std::int32_t pad_id,
                std::int64_t pad_to) {
  std::int64_t width = pad_to;
  for (auto i : index) width = std::max(width, sequences[static_cast<std::size_t>(i)].size());
  const auto rows = static_cast<std::int64_t>(index.size());
  PaddedBatch b;
  b.input_ids = torch::full({rows, width}, static_cast<std::int64_t>(pad_id), torch::kLong);
  b.token_type_ids = torch::zeros({rows, width}, torch::kLong);
  b.attention_mask = torch::zeros({rows, width}, torch::kLong);
  b.index = index;
  auto ids = b.input_ids.accessor<std::int64_t, 2>();
  auto types = b.token_type_ids.accessor<std::int64_t, 2>();
  auto mask = b.attention_mask.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& s = sequences[static_cast<std::size_t>(index[static_cast<std::size_t>(r)])];
    for (std::size_t p = 0; p < s.input_ids->size(); ++p) {
      const auto col = static_cast<std::int64_t>(p);
      ids[r][col] = (*s.input_ids)[p];
      if (s.token_type_ids != nullptr) types[r][col] = (*s.token_type_ids)[p];
      mask[r][col] = 1;
    }
  }
  return b;
}

void sort_longest_first(std::vector<std::int64_t>::iterator begin, std::vector<std::int64_t>::iterator end,
                        const std::vector<std::int64_t>& lengths) {
  std::stable_sort(begin, end, [&](std::int64_t a, std::int64_t b) {
    return lengths[static_cast<std::size_t>(a)] > lengths[static_cast<std::size_t>(b)];
  });
}

BatchIndex cut_batches(const std::vector<std::int64_t>& order, std::int64_t batch_size) {
  BatchIndex out;
  const auto step = static_cast<std::size_t>(batch_size);
  for (std::size_t i = 0; i < order.size(); i += step)
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                     order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + step)));
  return out;
}

BatchIndex plan_by_length(const std::vector<std::int64_t>& lengths, std::int64_t batch_size) {
  std::vector<std::int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  sort_longest_first(order.begin(), order.end(), lengths);
  return cut_batches(order, batch_size);
}

Outputs forward_batch(Model& model, const PaddedBatch& batch, Pass pass) {
  c10::InferenceMode inference;  // no autograd records, no version counters
  EvalMode eval(model.module());
  const auto device = model.device();
  return model.forward(batch.input_ids.to(device), batch.token_type_ids.to(device), batch.attention_mask.to(device), pass);
}

void run(Model& model, const std::vector<Sequence>& sequences, const RunOptions& options, const Consumer& consume) {
  c10::InferenceMode inference;
  EvalMode eval(model.module());
  std::vector<std::int64_t> lengths;
  lengths.reserve(sequences.size());
  for (const auto& s : sequences) lengths.push_back(s.size());
  for (const auto& index : plan_by_length(lengths, options.batch_size)) {
    const auto batch = pad(sequences, index, model.pad_id(), options.pad_to);
    consume(batch, forward_batch(model, batch, options.pass));
  }
}

}  // namespace bf::infer
