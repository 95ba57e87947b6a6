#pragma once
// Typed configs from YAML. Each config struct lists its fields once, in a
// `visit` member template; the same list parses, validates and prints:
//
//   struct OptimizerConfig {
//     std::string name = "adamw";
//     double lr = 1e-4;
//     template <class V> void visit(V& v) {
//       v.field("name", name, one_of({"adamw", "lamb"}));
//       v.field("lr", lr, positive<double>());
//     }
//   };
//
// Every problem is collected with its key path and YAML line (unknown keys
// with a did-you-mean, wrong types, out-of-range values, missing required
// keys) and reported together in one bf::Error.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace bf {

template <class T>
using Check = std::function<std::optional<std::string>(const T&)>;

template <class T>
Check<T> positive() {
  return [](const T& v) -> std::optional<std::string> {
    if (v > T(0)) return std::nullopt;
    return std::string("must be > 0");
  };
}
template <class T>
Check<T> non_negative() {
  return [](const T& v) -> std::optional<std::string> {
    if (v >= T(0)) return std::nullopt;
    return std::string("must be >= 0");
  };
}
template <class T>
Check<T> in_range(T lo, T hi) {
  return [lo, hi](const T& v) -> std::optional<std::string> {
    if (v >= lo && v <= hi) return std::nullopt;
    std::ostringstream os;
    os << "must be in [" << lo << ", " << hi << "]";
    return os.str();
  };
}
Check<std::string> one_of(std::vector<std::string> allowed);

// The names of an enum's values, listed once: configs read and write the
// names, code compares the values.
template <class E>
struct EnumNames {
  std::vector<std::pair<E, std::string>> entries;

  const std::string& name(E value) const {
    for (const auto& [v, n] : entries)
      if (v == value) return n;
    return entries.front().second;
  }
  std::optional<E> parse(const std::string& name) const {
    for (const auto& [v, n] : entries)
      if (n == name) return v;
    return std::nullopt;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.second);
    return out;
  }
};

std::string did_you_mean(const std::string& key, const std::vector<std::string>& known);

class ConfigReader {
 public:
  ConfigReader(YAML::Node node, std::string file, std::string prefix, std::vector<std::string>* errors);

  template <class T>
  void field(const std::string& key, T& value, Check<T> check = {}) {
    read(key, value, std::move(check), false);
  }
  template <class T>
  void required(const std::string& key, T& value, Check<T> check = {}) {
    read(key, value, std::move(check), true);
  }
  // An enum field, written in the YAML as one of `names`.
  template <class E>
  void choice(const std::string& key, E& value, const EnumNames<E>& names) {
    std::string name = names.name(value);
    read(key, name, one_of(names.names()), false);
    if (auto parsed = names.parse(name)) value = *parsed;
  }
  template <class S>
  void section(const std::string& key, S& sub) {
    known_.push_back(key);
    YAML::Node child = node_ ? node_[key] : YAML::Node();
    if (child && !child.IsNull() && !child.IsMap()) {
      error(child, path(key), "must be a mapping");
      return;
    }
    ConfigReader reader(child && child.IsMap() ? child : YAML::Node(), file_, path(key) + ".", errors_);
    sub.visit(reader);
    reader.finish();
  }
  // Reports keys present in the YAML that no field or section asked for.
  void finish();
  // Adds a problem found by a cross-field check, e.g. "warmup_steps > max_steps".
  void invalid(const std::string& key, const std::string& message);

 private:
  template <class T>
  void read(const std::string& key, T& value, Check<T> check, bool is_required) {
    known_.push_back(key);
    YAML::Node child = node_ ? node_[key] : YAML::Node();
    if (!child || child.IsNull()) {
      if (is_required) errors_->push_back(file_ + ": " + path(key) + ": required key is missing");
      return;
    }
    try {
      value = child.as<T>();
    } catch (const YAML::Exception&) {
      error(child, path(key), std::string("expected ") + type_name(static_cast<T*>(nullptr)));
      return;
    }
    if (check) {
      if (auto problem = check(value)) error(child, path(key), *problem);
    }
  }
  template <class T>
  void read(const std::string& key, std::optional<T>& value, Check<std::optional<T>> check, bool is_required) {
    T inner{};
    const bool present = node_ && node_[key] && !node_[key].IsNull();
    read<T>(key, inner, {}, is_required);
    if (present) value = inner;
    if (check && present) {
      if (auto problem = check(value)) error(node_[key], path(key), *problem);
    }
  }
  static const char* type_name(bool*) { return "true or false"; }
  static const char* type_name(int*) { return "an integer"; }
  static const char* type_name(long*) { return "an integer"; }
  static const char* type_name(long long*) { return "an integer"; }
  static const char* type_name(double*) { return "a number"; }
  static const char* type_name(float*) { return "a number"; }
  static const char* type_name(std::string*) { return "a string"; }
  template <class T>
  static const char* type_name(std::vector<T>*) { return "a list"; }
  template <class T>
  static const char* type_name(T*) { return "a value of another type"; }

  std::string path(const std::string& key) const { return prefix_ + key; }
  void error(const YAML::Node& at, const std::string& key_path, const std::string& message);

  YAML::Node node_;
  std::string file_;
  std::string prefix_;
  std::vector<std::string>* errors_;
  std::vector<std::string> known_;
};

// Writes a config back as YAML (the resolved config printed at start and saved
// in the run directory).
class ConfigWriter {
 public:
  explicit ConfigWriter(YAML::Emitter& out) : out_(out) {}
  template <class T>
  void field(const std::string& key, const T& value, Check<T> = {}) {
    out_ << YAML::Key << key << YAML::Value;
    emit(value);
  }
  template <class T>
  void required(const std::string& key, const T& value, Check<T> = {}) {
    field(key, value);
  }
  template <class E>
  void choice(const std::string& key, const E& value, const EnumNames<E>& names) {
    field(key, names.name(value));
  }
  template <class S>
  void section(const std::string& key, S& sub) {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    sub.visit(*this);
    out_ << YAML::EndMap;
  }
  void invalid(const std::string&, const std::string&) {}

 private:
  template <class T>
  void emit(const T& value) {
    out_ << value;
  }
  template <class T>
  void emit(const std::optional<T>& value) {
    if (value) {
      out_ << *value;
    } else {
      out_ << YAML::Null;
    }
  }
  template <class T>
  void emit(const std::vector<T>& values) {
    out_ << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : values) out_ << v;
    out_ << YAML::EndSeq;
  }
  YAML::Emitter& out_;
};

// The top-level keys a config's visit list names (its sections and fields),
// e.g. for a reader of one section that must let the others be.
class KeyCollector {
 public:
  template <class T, class... Rest>
  void field(const std::string& key, T&, Rest&&...) {
    keys.push_back(key);
  }
  template <class T, class... Rest>
  void required(const std::string& key, T&, Rest&&...) {
    keys.push_back(key);
  }
  template <class E>
  void choice(const std::string& key, E&, const EnumNames<E>&) {
    keys.push_back(key);
  }
  template <class S>
  void section(const std::string& key, S&) {
    keys.push_back(key);
  }
  void invalid(const std::string&, const std::string&) {}

  std::vector<std::string> keys;
};

template <class S>
std::vector<std::string> config_keys() {
  S config;
  KeyCollector collector;
  config.visit(collector);
  return collector.keys;
}

// The YAML document in `file`; a syntax error names the file and line.
YAML::Node load_yaml_file(const std::string& file);
// overrides are "a.b.c=value" strings from --set, applied before parsing.
void apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides);

template <class S>
S read_config_node(const YAML::Node& root, const std::string& file) {
  S config;
  std::vector<std::string> errors;
  if (root && !root.IsNull() && !root.IsMap()) bf::fail(file + ": the top level must be a mapping");
  ConfigReader reader(root, file, "", &errors);
  config.visit(reader);
  reader.finish();
  if (!errors.empty()) {
    std::string message = "invalid config " + file + " (" + std::to_string(errors.size()) + " problem" +
                          (errors.size() == 1 ? "" : "s") + "):";
    for (const auto& e : errors) message += "\n  " + e;
    bf::fail(message);
  }
  return config;
}

template <class S>
S read_config(const std::string& file, const std::vector<std::string>& overrides = {}) {
  YAML::Node root = load_yaml_file(file);
  apply_overrides(root, overrides);
  return read_config_node<S>(root, file);
}

template <class S>
std::string config_to_yaml(const S& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  ConfigWriter writer(out);
  // visit() is one template for reading and writing, so it is not const;
  // the writer only reads.
  const_cast<S&>(config).visit(writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace bf
