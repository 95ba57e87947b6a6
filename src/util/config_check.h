#pragma once
// A config's checks applied to values already in memory (set by
// command-line flags rather than read from YAML), through the same `visit`
// table that parses, validates and prints it (config_reader.h).
#include <functional>
#include <string>
#include <vector>

#include "util/config_reader.h"

namespace bf {

class ConfigChecker {
 public:
  ConfigChecker(std::function<std::string(const std::string&)> name, std::vector<std::string>* errors)
      : name_(std::move(name)), errors_(errors) {}
  template <class T>
  void field(const std::string& key, const T& value, Check<T> check = {}) {
    if (check)
      if (auto problem = check(value)) invalid(key, *problem);
  }
  template <class T>
  void required(const std::string& key, const T& value, Check<T> check = {}) {
    field(key, value, std::move(check));
  }
  template <class E>
  void choice(const std::string&, const E&, const EnumNames<E>&) {}
  template <class S>
  void section(const std::string& key, S& sub) {
    auto outer = name_;
    ConfigChecker inner([outer, key](const std::string& k) { return outer(key + "." + k); }, errors_);
    sub.visit(inner);
  }
  void invalid(const std::string& key, const std::string& message) { errors_->push_back(name_(key) + ": " + message); }

 private:
  std::function<std::string(const std::string&)> name_;
  std::vector<std::string>* errors_;
};

// Fails, listing every problem, when `config` breaks its own checks; `name`
// turns a key into what the user typed (a flag, say).
template <class S>
void check_config(S& config, const std::string& what, std::function<std::string(const std::string&)> name) {
  std::vector<std::string> errors;
  ConfigChecker checker(std::move(name), &errors);
  config.visit(checker);
  if (errors.empty()) return;
  std::string message = "invalid " + what + ":";
  for (const auto& e : errors) message += "\n  " + e;
  bf::fail(message);
}

}  // namespace bf
