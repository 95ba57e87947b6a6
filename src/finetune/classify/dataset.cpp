#include "finetune/classify/dataset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "util/runtime.h"

namespace bf::ft::classify {

std::vector<std::int64_t> Dataset::lengths() const {
  std::vector<std::int64_t> out;
  out.reserve(examples.size());
  for (const auto& e : examples) out.push_back(static_cast<std::int64_t>(e.input_ids.size()));
  return out;
}

void BadRowPolicy::handle(const BadRow& problem) {
  if (!skip_) throw problem;
  ++skipped_;
  if (skipped_ <= 5) spdlog::warn("skipped bad row: {}", problem.what());
}

std::vector<Row> read_rows(const std::string& path, const ReadOptions& options, BadRowPolicy& policy) {
  RowReader reader(path, parse_format(options.format, path), options.columns);
  std::vector<Row> rows;
  Row row;
  while (true) {
    try {
      if (!reader.next(row)) break;
      rows.push_back(std::move(row));
    } catch (const BadRow& problem) {
      policy.handle(problem);
    }
  }
  return rows;
}

LabelMap build_label_map(const std::vector<Row>& rows, const ReadOptions& options) {
  std::vector<std::string> seen;
  std::vector<std::string> several;
  for (const auto& row : rows) {
    std::string one;
    if (options.task == TaskType::SingleLabel && label_text(row.label, one)) seen.push_back(one);
    if (options.task == TaskType::MultiLabel && multi_label_texts(row.label, options.label_separator, several))
      seen.insert(seen.end(), several.begin(), several.end());
  }
  return LabelMap::from_labels(seen);
}

namespace {

// Fills the label fields of `e` from the row; throws BadRow when the cell
// cannot be read or names a class outside the map.
void read_label(const Row& row, const ReadOptions& options, const LabelMap& labels, const std::string& path,
                Example& e) {
  if (options.task == TaskType::Regression) {
    if (!regression_value(row.label, e.value))
      throw BadRow(path, row.line, "label " + row.label.dump() + " is not a number");
  } else if (options.task == TaskType::SingleLabel) {
    std::string text;
    if (!label_text(row.label, text)) throw BadRow(path, row.line, "label " + row.label.dump() + " is not a class name");
    e.label = labels.id(text);
    if (e.label < 0) throw BadRow(path, row.line, "unknown label '" + text + "' (not in the training set's label map)");
  } else {
    std::vector<std::string> texts;
    if (!multi_label_texts(row.label, options.label_separator, texts))
      throw BadRow(path, row.line, "label " + row.label.dump() + " is not a list of class names");
    for (const auto& text : texts) {
      const auto id = labels.id(text);
      if (id < 0) throw BadRow(path, row.line, "unknown label '" + text + "' (not in the training set's label map)");
      e.label_ids.push_back(id);
    }
  }
  e.has_label = true;
}

void tokenize_all(std::vector<Example>& examples, const std::vector<const Row*>& rows, const tok::Tokenizer& tokenizer,
                  int max_len) {
  const std::size_t n = examples.size();
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(bf::available_cores()), n / 256 + 1);
  auto work = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const Row& row = *rows[i];
      std::optional<std::string_view> pair;
      if (row.text_pair) pair = *row.text_pair;
      auto enc = tokenizer.encode_pair(row.text, pair, max_len);
      examples[i].input_ids = std::move(enc.input_ids);
      examples[i].token_type_ids = std::move(enc.token_type_ids);
    }
  };
  std::vector<std::thread> pool;
  const std::size_t chunk = (n + threads - 1) / std::max<std::size_t>(threads, 1);
  for (std::size_t t = 1; t < threads; ++t)
    pool.emplace_back(work, std::min(n, t * chunk), std::min(n, (t + 1) * chunk));
  work(0, std::min(n, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace

Dataset make_dataset(const std::string& path, const std::vector<Row>& rows, const ReadOptions& options,
                     const tok::Tokenizer& tokenizer, const LabelMap& labels, BadRowPolicy& policy,
                     bool labels_required) {
  Dataset data;
  data.path = path;
  data.task = options.task;
  data.num_labels = options.task == TaskType::Regression ? 1 : labels.size();
  std::vector<const Row*> kept;
  for (const auto& row : rows) {
    Example e;
    e.line = row.line;
    try {
      if (!row.label.is_null() || labels_required) read_label(row, options, labels, path, e);
    } catch (const BadRow& problem) {
      policy.handle(problem);
      continue;
    }
    data.examples.push_back(std::move(e));
    kept.push_back(&row);
  }
  tokenize_all(data.examples, kept, tokenizer, static_cast<int>(options.max_seq_length));
  data.skipped = policy.skipped();
  return data;
}

Dataset load_dataset(const std::string& path, const ReadOptions& options, const tok::Tokenizer& tokenizer,
                     const LabelMap& labels) {
  BadRowPolicy policy(options.skip_bad_rows);
  auto rows = read_rows(path, options, policy);
  auto data = make_dataset(path, rows, options, tokenizer, labels, policy);
  if (data.skipped > 0) spdlog::warn("{}: {} bad rows skipped (on_bad_row: skip)", path, data.skipped);
  if (data.examples.empty()) bf::fail(path + ": no usable rows");
  return data;
}

std::vector<std::int64_t> examples_per_class(const Dataset& data, std::int64_t per_class, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.size()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  // Fisher-Yates with a fixed engine: the same subset on every platform
  // (std::shuffle's algorithm is the library's choice).
  std::mt19937_64 engine(seed);
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(engine() % i);
    std::swap(order[i - 1], order[j]);
  }
  std::map<std::int64_t, std::int64_t> taken;
  std::vector<std::int64_t> kept;
  for (auto i : order) {
    const auto label = data.examples[static_cast<std::size_t>(i)].label;
    if (taken[label]++ < per_class) kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

void keep_examples_per_class(Dataset& data, std::int64_t per_class, std::uint64_t seed) {
  std::vector<Example> kept;
  for (auto i : examples_per_class(data, per_class, seed)) kept.push_back(std::move(data.examples[static_cast<std::size_t>(i)]));
  data.examples = std::move(kept);
}

Batch collate(const Dataset& data, const std::vector<std::int64_t>& index, std::int32_t pad_id) {
  const auto batch = static_cast<std::int64_t>(index.size());
  std::int64_t longest = 1;
  for (auto i : index)
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(data.examples[static_cast<std::size_t>(i)].input_ids.size()));
  auto ids = torch::full({batch, longest}, static_cast<std::int64_t>(pad_id), torch::kLong);
  auto types = torch::zeros({batch, longest}, torch::kLong);
  auto mask = torch::zeros({batch, longest}, torch::kLong);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto types_a = types.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  Batch out;
  out.index = index;
  bool labelled = batch > 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    const auto& e = data.examples[static_cast<std::size_t>(index[static_cast<std::size_t>(b)])];
    for (std::size_t t = 0; t < e.input_ids.size(); ++t) {
      ids_a[b][static_cast<std::int64_t>(t)] = e.input_ids[t];
      types_a[b][static_cast<std::int64_t>(t)] = e.token_type_ids[t];
      mask_a[b][static_cast<std::int64_t>(t)] = 1;
    }
    out.tokens += static_cast<std::int64_t>(e.input_ids.size());
    labelled = labelled && e.has_label;
  }
  out.input_ids = ids;
  out.token_type_ids = types;
  out.attention_mask = mask;
  if (!labelled) return out;
  if (data.task == TaskType::SingleLabel) {
    out.labels = torch::empty({batch}, torch::kLong);
    auto a = out.labels.accessor<std::int64_t, 1>();
    for (std::int64_t b = 0; b < batch; ++b)
      a[b] = data.examples[static_cast<std::size_t>(index[static_cast<std::size_t>(b)])].label;
  } else if (data.task == TaskType::MultiLabel) {
    out.labels = torch::zeros({batch, data.num_labels}, torch::kFloat32);
    auto a = out.labels.accessor<float, 2>();
    for (std::int64_t b = 0; b < batch; ++b)
      for (auto id : data.examples[static_cast<std::size_t>(index[static_cast<std::size_t>(b)])].label_ids) a[b][id] = 1.0f;
  } else {
    out.labels = torch::empty({batch}, torch::kFloat32);
    auto a = out.labels.accessor<float, 1>();
    for (std::int64_t b = 0; b < batch; ++b)
      a[b] = static_cast<float>(data.examples[static_cast<std::size_t>(index[static_cast<std::size_t>(b)])].value);
  }
  return out;
}

}  // namespace bf::ft::classify
