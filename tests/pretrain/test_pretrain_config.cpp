// Bad configs are rejected with the key path (and YAML line) named.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "../support/shared_data.h"
#include "pretrain/pretrain_config.h"
#include "train/config_diff.h"
#include "util/error.h"

using namespace bf;

namespace {

const char* kGood =
    "run: {output_dir: /tmp/x}\n"
    "tokenizer: tok\n"
    "data: {output: shards}\n"
    "training: {max_steps: 10}\n";

std::string write_yaml(const std::string& text) {
  const auto dir = test::temp_dir("cfg");
  const auto path = dir + "/run.yaml";
  std::ofstream(path) << text;
  return path;
}

void rejected(const std::string& yaml, const std::vector<std::string>& fragments) {
  const auto path = write_yaml(yaml);
  INFO(yaml);
  try {
    pretrain::load_pretrain_config(path);
    FAIL("config was accepted");
  } catch (const bf::Error& e) {
    const std::string message = e.what();
    INFO(message);
    for (const auto& f : fragments) REQUIRE(message.find(f) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("a minimal config parses with defaults", "[pretrain][config]") {
  auto c = pretrain::load_pretrain_config(write_yaml(kGood));
  REQUIRE(c.training.max_steps == 10);
  REQUIRE(c.model.preset == "mini");
  REQUIRE(c.optimizer.name == "adamw");
  REQUIRE(c.data.max_seq_length == 128);
}

namespace {

// kGood with one section replaced (or added).
std::string with(const std::string& key, const std::string& value) {
  std::map<std::string, std::string> sections{{"run", "{output_dir: /tmp/x}"},
                                              {"tokenizer", "tok"},
                                              {"data", "{output: shards}"},
                                              {"training", "{max_steps: 10}"}};
  sections[key] = value;
  std::string yaml;
  for (const auto& [k, v] : sections) yaml += k + ": " + v + "\n";
  return yaml;
}

}  // namespace

TEST_CASE("bad configs are rejected naming the key", "[pretrain][config]") {
  rejected(with("optimzer", "{lr: 1}"), {"optimzer: unknown key", "did you mean 'optimizer'"});
  rejected(with("optimizer", "{lr: -1}"), {"optimizer.lr: must be > 0", "run.yaml:2:"});
  rejected(with("optimizer", "{lr: fast}"), {"optimizer.lr: expected a number"});
  rejected(with("optimizer", "{name: sgd}"), {"optimizer.name", "'sgd' is not one of"});
  rejected(with("model", "{preset: gigantic}"), {"model.preset", "'gigantic'"});
  rejected(with("model", "{presett: mini}"), {"model.presett: unknown key", "did you mean 'model.preset'"});
  rejected(with("run", "{output_dir: /tmp/x, device: tpu}"), {"run.device", "'tpu'"});
  rejected(with("schedule", "{warmup_steps: 5, warmup_ratio: 0.1}"), {"schedule.warmup_ratio", "not both"});
  rejected(with("data", "{output: s, masked_lm_prob: 1.5}"), {"data.masked_lm_prob", "must be in [0, 1]"});
  rejected(with("training", "{batch_size: 0, max_steps: 1}"), {"training.batch_size"});
  rejected(with("training", "{precision: fp8, max_steps: 1}"), {"training.precision", "'fp8'"});
  rejected(with("logging", "[1, 2]"), {"logging: must be a mapping"});
  rejected("run: {seed: 1}\n", {"run.output_dir: required key is missing", "tokenizer: required key is missing",
                                "data.output: required key is missing"});
  rejected("run: {output_dir: x\n", {"YAML syntax error"});
  rejected(with("training", "{max_steps: 0}"), {"set max_steps or max_epochs"});
  rejected(with("data", "{output: s, max_seq_length: 1024}"), {"max_seq_length", "max_position_embeddings"});
  rejected(std::string(kGood) + "run: {device: cpu}\n", {"run: duplicate key", ":5:"});
}

TEST_CASE("overrides from --set apply before validation", "[pretrain][config]") {
  const auto path = write_yaml(kGood);
  auto c = pretrain::load_pretrain_config(path, {"training.max_steps=99", "optimizer.lr=3e-4", "model.preset=base"});
  REQUIRE(c.training.max_steps == 99);
  REQUIRE(c.optimizer.lr == 3e-4);
  REQUIRE(c.model.preset == "base");
  REQUIRE_THROWS_WITH(pretrain::load_pretrain_config(path, {"training.max_stepz=1"}),
                      Catch::Contains("training.max_stepz: unknown key"));
  REQUIRE_THROWS_WITH(pretrain::load_pretrain_config(path, {"novalue"}), Catch::Contains("expected key.path=value"));
}

TEST_CASE("the resolved config prints back and parses to the same config", "[pretrain][config]") {
  auto c = pretrain::load_pretrain_config(write_yaml(kGood));
  const auto text = config_to_yaml(c);
  auto again = pretrain::load_pretrain_config(write_yaml(text));
  REQUIRE(config_to_yaml(again) == text);
}

TEST_CASE("a run saved before mask_unit, pair_task and word_segmentation existed resumes under its old settings", "[pretrain][config]") {
  // The config such a run saved: the old keys only (data.nsp, data.whole_word_masking).
  auto as_saved_before = [](const std::string& yaml) {
    YAML::Node root = YAML::Load(yaml);
    for (const char* key : {"pair_task", "mask_unit", "span_p", "span_max_words", "ngram_max", "word_segmentation",
                            "word_refs", "user_words"})
      root["data"].remove(key);
    YAML::Emitter out;
    out << root;
    return std::string(out.c_str());
  };
  for (const char* old_keys : {"", ", nsp: false", ", whole_word_masking: true", ", nsp: false, whole_word_masking: true"}) {
    INFO("data: {output: shards" << old_keys << "}");
    const std::string yaml = std::string("run: {output_dir: /tmp/x}\ntokenizer: tok\ndata: {output: shards") + old_keys +
                             "}\ntraining: {max_steps: 10}\n";
    const auto now = config_to_yaml(pretrain::load_pretrain_config(write_yaml(yaml)));
    const auto changes = train::diff_yaml_configs(as_saved_before(now), now);
    REQUIRE(changes.size() == 8);
    for (const auto& c : changes) {
      INFO(c.key << ": " << c.before << " -> " << c.after);
      REQUIRE(train::is_added_with_default(c));
    }
  }
  // A new strategy is a change a resume refuses.
  const auto old = config_to_yaml(pretrain::load_pretrain_config(write_yaml(kGood)));
  for (const char* setting : {"data.mask_unit=span", "data.pair_task=sop", "data.span_p=0.3", "data.word_segmentation=icu"}) {
    INFO(setting);
    const auto now = config_to_yaml(pretrain::load_pretrain_config(write_yaml(kGood), {setting}));
    bool refused = false;
    for (const auto& c : train::diff_yaml_configs(as_saved_before(old), now)) refused |= !train::is_added_with_default(c);
    REQUIRE(refused);
  }
}

TEST_CASE("data build reads a whole pretraining config, its other sections from PretrainConfig's own list",
          "[pretrain][config]") {
  const auto path = write_yaml(
      "run: {output_dir: /tmp/x}\ntokenizer: tok\ndata: {output: shards, inputs: [a.txt]}\n"
      "training: {max_steps: 10}\ndistributed: {backend: gloo}\nschedule: {warmup_steps: 1}\n");
  const auto config = pretrain::read_data_build_config(path);
  CHECK(config.tokenizer == "tok");
  CHECK(config.data.output == "shards");
  const auto keys = bf::config_keys<pretrain::PretrainConfig>();
  CHECK(std::find(keys.begin(), keys.end(), "distributed") != keys.end());
  CHECK(std::find(keys.begin(), keys.end(), "finetune") == keys.end());
  // A key no pretraining config has stays an error, with a suggestion.
  const auto typo = write_yaml("tokenizer: tok\ndata: {output: shards, inputs: [a.txt]}\ndistributd: {}\n");
  try {
    pretrain::read_data_build_config(typo);
    FAIL("accepted an unknown key");
  } catch (const bf::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("distributd: unknown key") && Catch::Contains("did you mean 'distributed'"));
  }
}
