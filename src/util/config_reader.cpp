#include "util/config_reader.h"

#include <algorithm>

namespace bf {

Check<std::string> one_of(std::vector<std::string> allowed) {
  return [allowed](const std::string& v) -> std::optional<std::string> {
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return std::nullopt;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    std::string message = "'" + v + "' is not one of: " + list;
    const std::string guess = did_you_mean(v, allowed);
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    return message;
  };
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(const std::string& key, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const auto& candidate : known) {
    const std::size_t d = edit_distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

ConfigReader::ConfigReader(YAML::Node node, std::string file, std::string prefix, std::vector<std::string>* errors)
    : node_(std::move(node)), file_(std::move(file)), prefix_(std::move(prefix)), errors_(errors) {}

void ConfigReader::error(const YAML::Node& at, const std::string& key_path, const std::string& message) {
  std::string where = file_;
  const YAML::Mark mark = at.Mark();
  if (mark.line >= 0) where += ":" + std::to_string(mark.line + 1);
  errors_->push_back(where + ": " + key_path + ": " + message);
}

void ConfigReader::invalid(const std::string& key, const std::string& message) {
  YAML::Node child = node_ ? node_[key] : YAML::Node();
  if (child) {
    error(child, path(key), message);
  } else {
    errors_->push_back(file_ + ": " + path(key) + ": " + message);
  }
}

void ConfigReader::finish() {
  if (!node_ || !node_.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& item : node_) {
    // A list or a mapping used as a key ("? [a, b]: 1") names nothing a config has.
    if (!item.first.IsScalar()) {
      error(item.first, prefix_ + "<key>", "a key must be a plain name, not a list or a mapping");
      continue;
    }
    const std::string key = item.first.as<std::string>();
    // yaml-cpp keeps both copies of a repeated key and lookups see the first:
    // a silent trap, so it is an error.
    if (!seen.insert(key).second) {
      error(item.first, path(key), "duplicate key (it appears more than once in this mapping)");
      continue;
    }
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string message = "unknown key";
    const std::string guess = did_you_mean(key, known_);
    if (!guess.empty()) message += " (did you mean '" + prefix_ + guess + "'?)";
    error(item.first, path(key), message);
  }
}

YAML::Node load_yaml_file(const std::string& file) {
  try {
    return YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    bf::fail(file + ": cannot open config file");
  } catch (const YAML::ParserException& e) {
    bf::fail(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
             ": YAML syntax error: " + e.msg);
  }
}

void apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides) {
  for (const auto& item : overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) bf::fail("--set " + item + ": expected key.path=value");
    const std::string key_path = item.substr(0, eq);
    YAML::Node value;
    try {
      value = YAML::Load(item.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      bf::fail("--set " + item + ": value is not valid YAML: " + e.msg);
    }
    if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    // yaml-cpp throws its own exception for a subscript on a scalar or a list.
    if (!root.IsMap()) bf::fail("--set " + item + ": the config's top level is not a mapping, so no key can be set in it");
    // yaml-cpp's operator[] returns proxies; walk with a vector of owned nodes.
    std::vector<YAML::Node> chain{root};
    std::size_t start = 0;
    while (true) {
      const auto dot = key_path.find('.', start);
      const std::string part = key_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) bf::fail("--set " + item + ": empty key in path");
      YAML::Node parent = chain.back();
      if (dot == std::string::npos) {
        parent[part] = value;
        break;
      }
      if (!parent[part] || !parent[part].IsMap()) parent[part] = YAML::Node(YAML::NodeType::Map);
      chain.push_back(parent[part]);
      start = dot + 1;
    }
  }
}

}  // namespace bf
