#include "io/batch_json.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fs.h"

namespace bf::io {
namespace {

void collect(const nlohmann::json& value, std::size_t depth, std::vector<std::int64_t>& shape,
             std::vector<double>& values, bool& fractional, const std::string& where) {
  if (value.is_array()) {
    if (depth == shape.size()) {
      shape.push_back(static_cast<std::int64_t>(value.size()));
    } else if (shape[depth] != static_cast<std::int64_t>(value.size())) {
      bf::fail(where + ": rows have different lengths (" + std::to_string(shape[depth]) + " vs " +
               std::to_string(value.size()) + ")");
    }
    for (const auto& item : value) collect(item, depth + 1, shape, values, fractional, where);
    return;
  }
  if (!value.is_number() && !value.is_boolean()) bf::fail(where + ": expected numbers, found " + value.dump());
  if (depth != shape.size()) bf::fail(where + ": mixes numbers and lists at the same depth");
  // Any JSON float (even 1.0) makes a float tensor: multi-label and regression targets.
  if (value.is_number_float()) fractional = true;
  values.push_back(value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>());
}

}  // namespace

std::map<std::string, torch::Tensor> read_batch_json(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bf::read_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number that overflows
    bf::fail(path + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) bf::fail(path + ": expected a JSON object of named lists");
  std::map<std::string, torch::Tensor> out;
  for (const auto& [key, value] : j.items()) {
    std::vector<std::int64_t> shape;
    std::vector<double> values;
    bool fractional = false;
    collect(value, 0, shape, values, fractional, path + ": " + key);
    auto t = torch::tensor(values, torch::kFloat64).reshape(shape);
    out[key] = fractional ? t.to(torch::kFloat32) : t.to(torch::kInt64);
  }
  return out;
}

}  // namespace bf::io
