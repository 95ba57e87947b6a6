#include "model/quantized_linear.h"

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>

#include <algorithm>

#include "util/error.h"

namespace bf::model {
namespace {

using PackedParams = c10::intrusive_ptr<LinearPackedParamsBase>;

bool has_onednn_engine() {
  const auto& engines = at::globalContext().supportedQEngines();
  return std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) != engines.end();
}

// quantized::linear_prepack packs for the engine that is current when it
// runs; the packed weight then runs its own engine's kernel whatever the
// setting. So the process-wide setting is changed only for the packing.
class QEngineGuard {
 public:
  explicit QEngineGuard(at::QEngine engine) : previous_(at::globalContext().qEngine()) {
    at::globalContext().setQEngine(engine);
  }
  ~QEngineGuard() { at::globalContext().setQEngine(previous_); }
  QEngineGuard(const QEngineGuard&) = delete;
  QEngineGuard& operator=(const QEngineGuard&) = delete;

 private:
  at::QEngine previous_;
};

}  // namespace

struct Int8Linear::Packed {
  PackedParams params;
};

Int8Linear::Int8Linear(const torch::Tensor& weight, const torch::Tensor& bias) {
  static const auto prepack = c10::Dispatcher::singleton()
                                  .findSchemaOrThrow("quantized::linear_prepack", "")
                                  .typed<PackedParams(at::Tensor, c10::optional<at::Tensor>)>();
  torch::NoGradGuard no_grad;
  const auto w = weight.detach().to(torch::kFloat).contiguous();
  // Symmetric per output row (zero point 0, as oneDNN's int8 weights must
  // be): a row's largest |w| maps to 127. A row of zeros gets scale 1.
  auto scales = (w.abs().amax(1) / 127.0).to(torch::kDouble);
  scales = torch::where(scales > 0, scales, torch::ones_like(scales));
  const auto zero_points = torch::zeros({w.size(0)}, torch::kLong);
  const auto quantized = torch::quantize_per_channel(w, scales, zero_points, 0, torch::kQInt8);
  QEngineGuard engine(at::QEngine::ONEDNN);
  packed_ = std::make_unique<Packed>(
      Packed{prepack.call(quantized, bias.defined() ? c10::optional<at::Tensor>(bias.detach().to(torch::kFloat).contiguous())
                                                    : c10::nullopt)});
}

Int8Linear::~Int8Linear() = default;

torch::Tensor Int8Linear::forward(const torch::Tensor& x) const {
  static const auto linear_dynamic = c10::Dispatcher::singleton()
                                         .findSchemaOrThrow("quantized::linear_dynamic", "")
                                         .typed<at::Tensor(at::Tensor, const PackedParams&, bool)>();
  if (x.requires_grad()) bf::fail("int8 linears are for inference only: no gradient flows through them");
  // reduce_range (7-bit inputs) is FBGEMM's guard against 16-bit overflow on
  // CPUs without VNNI; oneDNN accumulates in 32 bits and needs none.
  return linear_dynamic.call(x.contiguous(), packed_->params, /*reduce_range=*/false);
}

std::string int8_unavailable_reason(const torch::Device& device) {
  if (!device.is_cpu()) return "int8 runs on the CPU only (LibTorch's quantized kernels); use bf16 on " + device.str();
  if (!has_onednn_engine()) return "int8 needs LibTorch's oneDNN quantized engine, which this LibTorch build lacks";
  return "";
}

}  // namespace bf::model
