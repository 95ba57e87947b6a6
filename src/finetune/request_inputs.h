#pragma once
// What every head's typed request reads from an HTTP body the same way: the
// body as an object, "inputs" as one input or a list of them, options with
// their types, text that must be non-empty UTF-8. Each reader throws
// infer::RequestError naming the field ("inputs[2]", "raw_scores"), so the
// server can answer the client's mistake (422, or 413 for too many inputs)
// before anything is tokenized.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "infer/job.h"

namespace bf::ft {

// What one request may ask for.
struct RequestLimits {
  std::int64_t max_inputs = 32;  // text-embeddings-inference's max_client_batch_size default
};

// A body's "inputs": a list is a batch (answered with a list), anything else
// one input (answered with one answer), as text-embeddings-inference does.
struct RequestInputs {
  std::vector<const nlohmann::json*> items;  // views into the body
  std::vector<std::string> fields;           // "inputs" alone, "inputs[i]" in a list
  bool single = false;
};

// The body as an object (Invalid otherwise).
const nlohmann::json& body_object(const nlohmann::json& body);

// body["inputs"]: required; a list must hold 1..limits.max_inputs items
// (TooLarge beyond). A list at the top is always a batch, so a
// [text, text_pair] pair must sit in one: [["a", "b"]].
RequestInputs request_inputs(const nlohmann::json& body, const RequestLimits& limits);

// A non-empty string of valid UTF-8 at `field`.
std::string text_field(const nlohmann::json& value, const std::string& field);
// Optional keys of the body, their default when absent or null.
bool bool_option(const nlohmann::json& body, const std::string& key, bool fallback);
std::int64_t int_option(const nlohmann::json& body, const std::string& key, std::int64_t fallback, std::int64_t min,
                        std::int64_t max);
std::string string_option(const nlohmann::json& body, const std::string& key, const std::string& fallback,
                          const std::vector<std::string>& allowed);

// The code point index (Python's str index) of byte `byte` of UTF-8 text.
std::int64_t code_point_index(std::string_view text, std::size_t byte);

// One answer alone (`single`: "inputs" was not a list), or the list of them.
nlohmann::json answer_json(bool single, std::vector<nlohmann::json> answers);

// A typed job whose answers become JSON through `to_json` (answers -> json),
// for the task table's request entries.
template <class Answer, class ToJson>
infer::Job<nlohmann::json> json_job(infer::Job<Answer> typed, ToJson to_json) {
  infer::Job<nlohmann::json> job;
  job.pass = typed.pass;
  job.input_ids = std::move(typed.input_ids);
  job.token_type_ids = std::move(typed.token_type_ids);
  job.finish = [finish = std::move(typed.finish), to_json](std::vector<infer::SequenceOutputs>& outputs) {
    return to_json(finish(outputs));
  };
  return job;
}

}  // namespace bf::ft
