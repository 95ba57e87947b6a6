#include "finetune/request_inputs.h"

#include <algorithm>

#include "infer/request_error.h"
#include "tokenizer/unicode.h"

namespace bf::ft {
namespace {

using infer::RequestError;

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  throw RequestError(RequestError::Kind::Invalid, field, message);
}

// The option's value, or null when the body lacks it.
const nlohmann::json& option(const nlohmann::json& body, const std::string& key) {
  static const nlohmann::json none;
  const auto it = body.find(key);
  return it == body.end() ? none : *it;
}

}  // namespace

const nlohmann::json& body_object(const nlohmann::json& body) {
  if (!body.is_object()) invalid("", "the request body must be a JSON object");
  return body;
}

RequestInputs request_inputs(const nlohmann::json& body, const RequestLimits& limits) {
  const auto& inputs = option(body_object(body), "inputs");
  if (inputs.is_null()) invalid("inputs", "missing");
  RequestInputs out;
  if (!inputs.is_array()) {
    out.single = true;
    out.items.push_back(&inputs);
    out.fields.push_back("inputs");
    return out;
  }
  if (inputs.empty()) invalid("inputs", "an empty list");
  if (static_cast<std::int64_t>(inputs.size()) > limits.max_inputs)
    throw RequestError(RequestError::Kind::TooLarge, "inputs",
                       std::to_string(inputs.size()) + " inputs; at most " + std::to_string(limits.max_inputs) +
                           " in one request");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    out.items.push_back(&inputs[i]);
    out.fields.push_back("inputs[" + std::to_string(i) + "]");
  }
  return out;
}

std::string text_field(const nlohmann::json& value, const std::string& field) {
  if (!value.is_string()) invalid(field, "expected a string, got " + std::string(value.type_name()));
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty()) invalid(field, "an empty string");
  // nlohmann's parser rejects bad UTF-8, but a body built in code need not.
  if (!tok::unicode::is_valid_utf8(text.data(), text.size())) invalid(field, "not valid UTF-8");
  return text;
}

bool bool_option(const nlohmann::json& body, const std::string& key, bool fallback) {
  const auto& value = option(body, key);
  if (value.is_null()) return fallback;
  if (!value.is_boolean()) invalid(key, "expected true or false, got " + value.dump());
  return value.get<bool>();
}

std::int64_t int_option(const nlohmann::json& body, const std::string& key, std::int64_t fallback, std::int64_t min,
                        std::int64_t max) {
  const auto& value = option(body, key);
  if (value.is_null()) return fallback;
  if (!value.is_number_integer()) invalid(key, "expected an integer, got " + value.dump());
  const auto n = value.get<std::int64_t>();
  if (n < min || n > max)
    invalid(key, std::to_string(n) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
  return n;
}

std::string string_option(const nlohmann::json& body, const std::string& key, const std::string& fallback,
                          const std::vector<std::string>& allowed) {
  const auto& value = option(body, key);
  if (value.is_null()) return fallback;
  std::string names;
  for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
  if (!value.is_string() || std::find(allowed.begin(), allowed.end(), value.get<std::string>()) == allowed.end())
    invalid(key, "expected one of " + names + ", got " + value.dump());
  return value.get<std::string>();
}

std::int64_t code_point_index(std::string_view text, std::size_t byte) {
  std::int64_t count = 0;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i)
    count += !tok::unicode::is_continuation_byte(static_cast<unsigned char>(text[i]));
  return count;
}

nlohmann::json answer_json(bool single, std::vector<nlohmann::json> answers) {
  if (single) return std::move(answers.at(0));
  return nlohmann::json(std::move(answers));
}

}  // namespace bf::ft
