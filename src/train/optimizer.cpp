#include "train/optimizer.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <cmath>
#include <set>

#include "train/adamw_kernel.h"
#include "util/error.h"

namespace bf::train {

namespace {

const char* const kExpAvg = "exp_avg/";
const char* const kExpAvgSq = "exp_avg_sq/";

std::vector<at::Scalar> scalars(const std::vector<std::int64_t>& steps, double (*f)(std::int64_t, double),
                                double arg) {
  std::vector<at::Scalar> out;
  out.reserve(steps.size());
  for (auto s : steps) out.emplace_back(f(s, arg));
  return out;
}

double bias_correction(std::int64_t step, double beta) { return 1.0 - std::pow(beta, static_cast<double>(step)); }
double sqrt_bias_correction(std::int64_t step, double beta) { return std::sqrt(bias_correction(step, beta)); }

// AdamW's signed step: -lr/(1-b1^t), or -lr without bias correction.
double adam_step_size(const OptimizerConfig& c, std::int64_t step, double lr) {
  return -(lr / (c.bias_correction ? bias_correction(step, c.beta1) : 1.0));
}

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace

bool is_exempt_from_decay(const std::string& name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (!p.empty() && name.find(p) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::pair<std::string, torch::Tensor>> named_parameters(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

Optimizer::Optimizer(std::vector<std::pair<std::string, torch::Tensor>> named_params, OptimizerConfig config)
    : config_(std::move(config)) {
  if (config_.name != "adamw" && config_.name != "lamb") bf::fail("optimizer.name: unknown optimizer '" + config_.name + "'");
  std::set<const void*> seen;
  for (auto& [name, param] : named_params) {
    if (!param.defined()) bf::fail("optimizer: parameter '" + name + "' is undefined");
    if (!seen.insert(param.unsafeGetTensorImpl()).second) continue;  // tied weight, already listed
    if (param.scalar_type() != torch::kFloat32) {
      bf::fail("optimizer: parameter '" + name + "' is " + std::string(c10::toString(param.scalar_type())) +
               "; master weights must be fp32 (use autocast for bf16 compute)");
    }
    Slot slot;
    slot.name = name;
    slot.param = param;
    slot.exp_avg = torch::zeros_like(param, torch::MemoryFormat::Preserve);
    slot.exp_avg_sq = torch::zeros_like(param, torch::MemoryFormat::Preserve);
    slot.decay = !is_exempt_from_decay(name, config_.no_decay);
    slots_.push_back(std::move(slot));
  }
}

void Optimizer::step(double lr, double grad_scale) {
  torch::NoGradGuard no_grad;
  Group decayed, exempt;
  for (auto& slot : slots_) {
    const auto& grad = slot.param.grad();
    if (!grad.defined()) continue;
    ++slot.step;
    Group& g = slot.decay ? decayed : exempt;
    g.params.push_back(slot.param);
    g.grads.push_back(grad);
    g.exp_avgs.push_back(slot.exp_avg);
    g.exp_avg_sqs.push_back(slot.exp_avg_sq);
    g.steps.push_back(slot.step);
  }
  for (auto* g : {&decayed, &exempt}) {
    if (g->empty()) continue;
    const double wd = g == &decayed ? config_.weight_decay : 0.0;
    if (config_.name == "lamb") {
      if (grad_scale != 1.0) at::_foreach_mul_(g->grads, grad_scale);
      lamb_step(*g, lr, wd);
    } else {
      adamw_step(*g, lr, wd, grad_scale);
    }
  }
  ++steps_;
}

// m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
void Optimizer::update_moments(Group& g) const {
  at::_foreach_mul_(g.exp_avgs, config_.beta1);
  at::_foreach_add_(g.exp_avgs, g.grads, 1.0 - config_.beta1);
  at::_foreach_mul_(g.exp_avg_sqs, config_.beta2);
  at::_foreach_addcmul_(g.exp_avg_sqs, g.grads, g.grads, 1.0 - config_.beta2);
}

// sqrt(v_hat) + eps, computed as sqrt(v)/sqrt(1-b2^t) + eps like torch.optim.AdamW.
std::vector<torch::Tensor> Optimizer::adam_denominators(const Group& g) const {
  auto denom = at::_foreach_sqrt(g.exp_avg_sqs);
  if (config_.bias_correction) at::_foreach_div_(denom, scalars(g.steps, sqrt_bias_correction, config_.beta2));
  at::_foreach_add_(denom, config_.eps);
  return denom;
}

// Decoupled decay first (p *= 1 - lr*wd), then p -= lr/(1-b1^t) * m / denom.
// Without bias correction this is exactly Google's p -= lr*(m/(sqrt(v)+eps) + wd*p).
// Contiguous fp32 CPU tensors take the one-pass kernel (adamw_kernel.h); the
// rest (CUDA, where foreach ops are already multi-tensor kernels) take the
// same arithmetic as `_foreach_*` calls.
void Optimizer::adamw_step(Group& g, double lr, double weight_decay, double grad_scale) const {
  Group rest;
  for (std::size_t i = 0; i < g.params.size(); ++i) {
    if (takes_fused_kernel(g, i)) {
      fused_adamw(g, i, lr, weight_decay, grad_scale);
    } else {
      rest.params.push_back(g.params[i]);
      rest.grads.push_back(g.grads[i]);
      rest.exp_avgs.push_back(g.exp_avgs[i]);
      rest.exp_avg_sqs.push_back(g.exp_avg_sqs[i]);
      rest.steps.push_back(g.steps[i]);
    }
  }
  if (rest.empty()) return;
  if (grad_scale != 1.0) at::_foreach_mul_(rest.grads, grad_scale);
  if (weight_decay != 0.0) at::_foreach_mul_(rest.params, 1.0 - lr * weight_decay);
  update_moments(rest);
  const auto denom = adam_denominators(rest);
  std::vector<at::Scalar> step_sizes;
  for (auto s : rest.steps) step_sizes.emplace_back(adam_step_size(config_, s, lr));
  at::_foreach_addcdiv_(rest.params, rest.exp_avgs, denom, step_sizes);
}

bool Optimizer::takes_fused_kernel(const Group& g, std::size_t i) {
  for (const auto* t : {&g.params[i], &g.grads[i], &g.exp_avgs[i], &g.exp_avg_sqs[i]}) {
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat32 || !t->is_contiguous() || t->is_sparse())
      return false;
  }
  return g.grads[i].numel() == g.params[i].numel();
}

void Optimizer::fused_adamw(Group& g, std::size_t i, double lr, double weight_decay, double grad_scale) const {
  RECORD_FUNCTION("bf::fused_adamw", std::vector<c10::IValue>());  // profiles see only recorded ops
  // The scalars are computed in double and rounded once, as ATen does with
  // the Scalars of the foreach path.
  const std::int64_t step = g.steps[i];
  AdamwScalars s;
  s.beta1 = static_cast<float>(config_.beta1);
  s.one_minus_beta1 = static_cast<float>(1.0 - config_.beta1);
  s.beta2 = static_cast<float>(config_.beta2);
  s.one_minus_beta2 = static_cast<float>(1.0 - config_.beta2);
  s.decay = static_cast<float>(1.0 - lr * weight_decay);
  s.step_size = static_cast<float>(adam_step_size(config_, step, lr));
  s.sqrt_correction = static_cast<float>(config_.bias_correction ? sqrt_bias_correction(step, config_.beta2) : 1.0);
  s.eps = static_cast<float>(config_.eps);
  s.grad_scale = static_cast<float>(grad_scale);  // as _foreach_mul_ rounds its Scalar
  float* param = g.params[i].data_ptr<float>();
  const float* grad = g.grads[i].data_ptr<float>();
  float* exp_avg = g.exp_avgs[i].data_ptr<float>();
  float* exp_avg_sq = g.exp_avg_sqs[i].data_ptr<float>();
  // Element-wise, so the result does not depend on how the range is split.
  at::parallel_for(0, g.params[i].numel(), 1 << 15, [&](std::int64_t begin, std::int64_t end) {
    adamw_update(param + begin, grad + begin, exp_avg + begin, exp_avg_sq + begin, end - begin, s);
  });
  // Written through raw pointers: tell autograd the weight changed in place.
  g.params[i].unsafeGetTensorImpl()->bump_version();
}

// update = m_hat/(sqrt(v_hat)+eps) + wd*p; p -= lr * trust * update with
// trust = ||p||/||update|| per tensor (1 if either is 0). As in NVIDIA's
// FusedLAMB (and TF's exclude_from_layer_adaptation default), tensors without
// weight decay get no layer adaptation.
void Optimizer::lamb_step(Group& g, double lr, double weight_decay) const {
  update_moments(g);
  auto update = at::_foreach_div(g.exp_avgs, adam_denominators(g));
  if (config_.bias_correction) at::_foreach_div_(update, scalars(g.steps, bias_correction, config_.beta1));
  if (weight_decay == 0.0) {
    at::_foreach_add_(g.params, update, -lr);
    return;
  }
  at::_foreach_add_(update, g.params, weight_decay);
  auto param_norms = at::_foreach_norm(g.params);
  auto update_norms = at::_foreach_norm(update);
  const auto device = param_norms.front().device();
  for (auto& n : param_norms) n = n.to(device);
  for (auto& n : update_norms) n = n.to(device);
  const auto p = at::stack(param_norms);
  const auto u = at::stack(update_norms);
  // One device-to-host copy for all trust ratios of the group.
  const auto trust = at::where((p > 0) & (u > 0), p / u, at::ones_like(p)).to(torch::kCPU, torch::kFloat64);
  const auto* ratio = trust.data_ptr<double>();
  std::vector<at::Scalar> step_sizes;
  for (std::size_t i = 0; i < update.size(); ++i) step_sizes.emplace_back(-lr * ratio[i]);
  at::_foreach_mul_(update, step_sizes);
  at::_foreach_add_(g.params, update);
}

void Optimizer::zero_grad() {
  for (auto& slot : slots_) {
    if (slot.param.mutable_grad().defined()) slot.param.mutable_grad().reset();
  }
}

std::vector<torch::Tensor> Optimizer::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& slot : slots_) out.push_back(slot.param);
  return out;
}

std::vector<std::string> Optimizer::parameter_names() const {
  std::vector<std::string> out;
  for (const auto& slot : slots_) out.push_back(slot.name);
  return out;
}

std::vector<std::string> Optimizer::exempt_parameter_names() const {
  std::vector<std::string> out;
  for (const auto& slot : slots_) {
    if (!slot.decay) out.push_back(slot.name);
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> Optimizer::state_tensors() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& slot : slots_) out.emplace_back(kExpAvg + slot.name, slot.exp_avg);
  for (const auto& slot : slots_) out.emplace_back(kExpAvgSq + slot.name, slot.exp_avg_sq);
  return out;
}

nlohmann::json Optimizer::state_json() const {
  nlohmann::json param_steps = nlohmann::json::object();
  for (const auto& slot : slots_) param_steps[slot.name] = slot.step;
  return {{"name", config_.name}, {"steps", steps_}, {"param_steps", param_steps}};
}

void Optimizer::load_state(const std::map<std::string, torch::Tensor>& tensors, const nlohmann::json& json) {
  std::set<std::string> expected;
  for (const auto& slot : slots_) {
    expected.insert(kExpAvg + slot.name);
    expected.insert(kExpAvgSq + slot.name);
  }
  for (const auto& [name, tensor] : tensors) {
    const bool ours = name.rfind(kExpAvg, 0) == 0 || name.rfind(kExpAvgSq, 0) == 0;
    if (ours && !expected.count(name)) {
      bf::fail("optimizer state: tensor '" + name + "' belongs to no parameter of this model");
    }
  }
  auto fetch = [&](const std::string& key, const torch::Tensor& like) -> const torch::Tensor& {
    auto it = tensors.find(key);
    if (it == tensors.end()) bf::fail("optimizer state: missing tensor '" + key + "'");
    if (it->second.sizes() != like.sizes()) {
      bf::fail("optimizer state: tensor '" + key + "' has shape " + shape_string(it->second) + ", the parameter has " +
               shape_string(like));
    }
    return it->second;
  };
  std::vector<std::int64_t> param_steps;
  std::int64_t steps = 0;
  try {
    steps = json.at("steps").get<std::int64_t>();
    const auto& per_param = json.at("param_steps");
    for (const auto& slot : slots_) {
      if (!per_param.contains(slot.name)) bf::fail("optimizer state: no step count for parameter '" + slot.name + "'");
      param_steps.push_back(per_param.at(slot.name).get<std::int64_t>());
    }
  } catch (const nlohmann::json::exception& e) {
    bf::fail(std::string("optimizer state: malformed JSON: ") + e.what());
  }
  // Validate everything before changing anything.
  for (const auto& slot : slots_) {
    fetch(kExpAvg + slot.name, slot.param);
    fetch(kExpAvgSq + slot.name, slot.param);
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto& slot = slots_[i];
    slot.exp_avg.copy_(fetch(kExpAvg + slot.name, slot.param));
    slot.exp_avg_sq.copy_(fetch(kExpAvgSq + slot.name, slot.param));
    slot.step = param_steps[i];
  }
  steps_ = steps;
}

}  // namespace bf::train
