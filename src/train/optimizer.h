#pragma once
// AdamW (torch.optim.AdamW, or Google BERT's AdamWeightDecayOptimizer without
// bias correction) and LAMB (NVIDIA's BERT recipe), over fp32 master weights.
//
// AdamW on CPU runs one fused pass per tensor (adamw_kernel.h); LAMB, and
// AdamW elsewhere, run as a handful of `_foreach_*` calls over each group of
// parameters (decayed / exempt from decay) instead of many small ops per
// parameter. Learning rate is an argument of step(): the schedule lives
// outside, as a pure function of the step (lr_schedule.h).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "util/config_reader.h"

namespace bf::train {

struct OptimizerConfig {
  std::string name = "adamw";  // adamw | lamb
  double lr = 1e-4;            // peak learning rate (the schedule scales it)
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-6;
  double weight_decay = 0.01;
  // A parameter is exempt from weight decay when its full name contains any
  // of these substrings (Hugging Face's `any(nd in n for nd in no_decay)`).
  std::vector<std::string> no_decay = {"bias", "LayerNorm.weight"};
  bool bias_correction = true;  // false: Google's original BERT optimizer
  double clip_grad_norm = 1.0;  // global L2 norm; 0 = off

  template <class V>
  void visit(V& v) {
    v.field("name", name, one_of({"adamw", "lamb"}));
    v.field("lr", lr, positive<double>());
    v.field("beta1", beta1, in_range(0.0, 0.999999));
    v.field("beta2", beta2, in_range(0.0, 0.999999999));
    v.field("eps", eps, positive<double>());
    v.field("weight_decay", weight_decay, in_range(0.0, 1.0));
    v.field("no_decay", no_decay);
    v.field("bias_correction", bias_correction);
    v.field("clip_grad_norm", clip_grad_norm, non_negative<double>());
  }
};

// A module's parameters with their full names, as the Optimizer takes them.
std::vector<std::pair<std::string, torch::Tensor>> named_parameters(const torch::nn::Module& model);

// True when `name` contains one of `patterns` (the no_decay rule above).
bool is_exempt_from_decay(const std::string& name, const std::vector<std::string>& patterns);

class Optimizer {
 public:
  // Parameters must be fp32. The same tensor listed twice (tied weights) is
  // kept once, under its first name.
  Optimizer(std::vector<std::pair<std::string, torch::Tensor>> named_params, OptimizerConfig config);

  // One update at this learning rate. Parameters whose grad is undefined are
  // skipped (their state and step count are left alone). The gradients count
  // as multiplied by grad_scale (GradClip::scale): the same fp32 products as
  // scaling them first, without a pass of its own on the fused path; the
  // gradients themselves are left as they are there.
  void step(double lr, double grad_scale = 1.0);
  // Sets every grad to undefined, so the next backward allocates fresh.
  void zero_grad();
  // Number of step() calls so far.
  std::int64_t steps() const { return steps_; }

  const OptimizerConfig& config() const { return config_; }
  std::vector<torch::Tensor> parameters() const;
  std::vector<std::string> parameter_names() const;
  std::vector<std::string> exempt_parameter_names() const;

  // Checkpoint state: "exp_avg/<param>" and "exp_avg_sq/<param>" for every
  // parameter, plus the step counts as JSON.
  std::vector<std::pair<std::string, torch::Tensor>> state_tensors() const;
  nlohmann::json state_json() const;
  // Restores what state_tensors()/state_json() saved; throws bf::Error naming
  // the first missing, unknown or mis-shaped tensor. Other keys in `tensors`
  // (outside the exp_avg/ and exp_avg_sq/ prefixes) are ignored.
  void load_state(const std::map<std::string, torch::Tensor>& tensors, const nlohmann::json& json);

 private:
  struct Slot {
    std::string name;
    torch::Tensor param;
    torch::Tensor exp_avg;     // first moment, fp32
    torch::Tensor exp_avg_sq;  // second moment, fp32
    bool decay = true;
    std::int64_t step = 0;  // updates this parameter has received (bias correction)
  };
  // Tensors of the slots in one group that have a gradient this step.
  struct Group {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
    std::vector<std::int64_t> steps;
    bool empty() const { return params.empty(); }
  };

  void update_moments(Group& g) const;
  std::vector<torch::Tensor> adam_denominators(const Group& g) const;
  void adamw_step(Group& g, double lr, double weight_decay, double grad_scale) const;
  static bool takes_fused_kernel(const Group& g, std::size_t i);
  void fused_adamw(Group& g, std::size_t i, double lr, double weight_decay, double grad_scale) const;
  void lamb_step(Group& g, double lr, double weight_decay) const;

  OptimizerConfig config_;
  std::vector<Slot> slots_;
  std::int64_t steps_ = 0;
};

}  // namespace bf::train
