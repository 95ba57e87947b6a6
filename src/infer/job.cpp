#include "infer/job.h"

#include "util/error.h"

namespace bf::infer {
namespace {

torch::Tensor row_of(const torch::Tensor& t, std::int64_t row, std::int64_t length, bool has_positions) {
  if (!t.defined()) return {};
  auto r = t[row];
  if (has_positions) r = r.narrow(0, 0, length);
  return r.to(torch::kCPU, torch::kFloat32).contiguous();
}

}  // namespace

SequenceOutputs cut(const Outputs& outputs, std::int64_t row, std::int64_t length) {
  SequenceOutputs s;
  if (outputs.logits.defined()) s.logits = row_of(outputs.logits, row, length, outputs.logits.dim() == 3);
  s.start_logits = row_of(outputs.start_logits, row, length, true);
  s.end_logits = row_of(outputs.end_logits, row, length, true);
  for (const auto& h : outputs.hidden_states) s.hidden_states.push_back(row_of(h, row, length, true));
  s.pooler_output = row_of(outputs.pooler_output, row, length, false);
  return s;
}

std::vector<Sequence> sequences_of(const std::vector<std::vector<std::int32_t>>& input_ids,
                                   const std::vector<std::vector<std::int32_t>>& token_type_ids) {
  if (!token_type_ids.empty() && token_type_ids.size() != input_ids.size())
    bf::fail("a job's token_type_ids must be empty or one per sequence");
  std::vector<Sequence> out(input_ids.size());
  for (std::size_t i = 0; i < input_ids.size(); ++i) {
    out[i].input_ids = &input_ids[i];
    if (!token_type_ids.empty()) out[i].token_type_ids = &token_type_ids[i];
  }
  return out;
}

}  // namespace bf::infer
