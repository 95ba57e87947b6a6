// Precompiled header for every translation unit of the core library, the CLI
// and the tests. Only heavy, stable third-party headers belong here.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
