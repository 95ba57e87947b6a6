#pragma once
// `bertforge probe`: the probe of any model directory (a pretraining
// checkpoint or export, a fine-tuned model, an HF BERT), and optionally of
// random weights of the same shape, the reference that shows what the
// weights are worth.
#include <optional>
#include <string>

#include "finetune/probe/probe.h"
#include "finetune/probe/probe_section.h"

namespace bf::ft {

struct ProbeRequest {
  std::string model_dir;
  ProbeSection section;
  bool with_random_init = false;  // also probe freshly initialised weights (seed: section.seed)
  std::string device = "auto";
};

struct ProbeReport {
  ProbeResult model;
  std::optional<ProbeResult> random_init;
  nlohmann::json to_json() const;
};

ProbeReport probe_model_dir(const ProbeRequest& request);

}  // namespace bf::ft
