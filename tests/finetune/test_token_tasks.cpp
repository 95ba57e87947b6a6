// Token classification and extractive QA end to end on slices of WNUT-17 and
// CMRC 2018: the shared trainer, HF-layout export, evaluate/predict through
// the model directory and exact resume. (That windows, offsets and decoding
// are exact is tested on gold spans in test_qa.cpp; the memorisation figure
// comes from scripts/finetune_tokens.sh.)
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "finetune/tasks.h"
#include "finetune/qa/qa_task.h"
#include "finetune/tagging/tagging_task.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "token_fixture.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace bf;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<train::TrainingTask> make_task(const ft::FinetuneConfig& config) {
  if (config.task() == ft::TaskType::QuestionAnswering) return std::make_unique<ft::qa::QaTask>(config, torch::kCPU);
  return std::make_unique<ft::tagging::TaggingTask>(config, torch::kCPU);
}

train::TrainResult run(const ft::FinetuneConfig& config, const std::string& resume_from = "") {
  auto task = make_task(config);
  return test::train_task(*task, config, resume_from);
}

// A run stopped after 2 of 6 steps and resumed equals the uninterrupted run:
// every step's loss, the evaluations and the final weights, bit for bit.
void check_resume(const ft::FinetuneConfig& config, const std::string& dir) {
  auto straight = config;
  straight.run.output_dir = dir + "/straight";
  REQUIRE(run(straight).steps == 6);
  auto first = config;
  first.run.output_dir = dir + "/resumed";
  first.training.session_steps = 2;
  REQUIRE(run(first).stopped_by == train::StopReason::SessionSteps);
  auto second = config;
  second.run.output_dir = dir + "/resumed";
  REQUIRE(run(second, train::find_latest_checkpoint(second.run.output_dir)).steps == 6);
  const auto a = test::metrics_records(dir + "/straight", "train");
  const auto b = test::metrics_records(dir + "/resumed", "train");
  REQUIRE(a.size() == 6);
  for (const auto& [step, record] : a) {
    INFO("step " << step);
    REQUIRE(record["loss"].get<double>() == b.at(step)["loss"].get<double>());
    REQUIRE(record["grad_norm"].get<double>() == b.at(step)["grad_norm"].get<double>());
  }
  REQUIRE(test::metrics_records(dir + "/straight", "eval").at(6)["f1"] == test::metrics_records(dir + "/resumed", "eval").at(6)["f1"]);
  io::SafetensorsReader x(dir + "/straight/model/model.safetensors");
  io::SafetensorsReader y(dir + "/resumed/model/model.safetensors");
  for (const auto& e : x.entries()) {
    INFO(e.name);
    REQUIRE(torch::equal(x.load(e.name), y.load(e.name)));
  }
  // evals.jsonl holds each evaluation once, the resumed run's included.
  std::ifstream evals(dir + "/resumed/evals.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(evals, line)) ++n;
  REQUIRE(n == 2);
}

}  // namespace

TEST_CASE("token classification trains, scores entities and exports an HF BertForTokenClassification",
          "[finetune][tagging]") {
  const auto dir = test::temp_dir("ner-run");
  const auto train = test::wnut_slice("train", dir + "/train.conll", 60);
  const auto dev = test::wnut_slice("dev", dir + "/dev.conll", 30);
  const auto config = test::tiny_token_config(dir, "token_classification", train, dev, test::vocab_dir(dir));
  const auto result = run(config);
  REQUIRE(result.steps == 6);
  for (const char* key : {"f1", "precision", "recall", "accuracy", "loss"}) REQUIRE(result.last_eval.count(key));
  const auto saved = io::load_model_config(result.model_dir);
  CHECK(saved.architectures == std::vector<std::string>{"BertForTokenClassification"});
  CHECK(saved.label_id("O") >= 0);
  CHECK(saved.label_id("B-person") >= 0);
  CHECK(fs::exists(dir + "/run/best_model/config.json"));

  // evaluate through the model directory gives the trainer's numbers.
  ft::InputSettings settings;
  const auto evaluated = ft::evaluate_model_dir(result.model_dir, dev, settings, torch::kCPU);
  CHECK(evaluated.report["f1"].get<double>() == Approx(result.last_eval.at("f1")));
  CHECK(evaluated.report.contains("per_type"));
  CHECK(evaluated.report["examples"] == 30);

  // predict on CoNLL: the same lines with one more column.
  const auto out = dir + "/pred.conll";
  const auto summary = ft::predict_model_dir(result.model_dir, dev, out, settings, torch::kCPU);
  CHECK(summary.rows == 30);
  std::ifstream a(dev), b(out);
  std::string la, lb;
  int lines = 0;
  while (std::getline(a, la)) {
    REQUIRE(std::getline(b, lb));
    ++lines;
    if (la.empty()) {
      REQUIRE(lb.empty());
    } else {
      REQUIRE(lb.rfind(la + "\t", 0) == 0);
    }
  }
  CHECK(lines > 30);
}

TEST_CASE("resuming a token-classification run is bit-identical", "[finetune][tagging][resume]") {
  const auto dir = test::temp_dir("ner-resume");
  const auto train = test::wnut_slice("train", dir + "/train.conll", 40);
  const auto dev = test::wnut_slice("dev", dir + "/dev.conll", 16);
  check_resume(test::tiny_token_config(dir, "token_classification", train, dev, test::vocab_dir(dir),
                                       {"data.group_by_length=true"}),
               dir);
}

TEST_CASE("extractive QA trains, answers with substrings of the context and exports BertForQuestionAnswering",
          "[finetune][qa]") {
  const auto dir = test::temp_dir("qa-run");
  const auto train = test::cmrc_subset("cmrc2018_train.json", dir + "/train.json", 24);
  const auto dev = test::cmrc_subset("cmrc2018_dev.json", dir + "/dev.json", 12);
  const auto config =
      test::tiny_token_config(dir, "question_answering", train, dev, test::chinese_vocab_dir(dir), {}, 96);
  const auto result = run(config);
  REQUIRE(result.steps == 6);
  REQUIRE(result.last_eval.count("exact_match"));
  REQUIRE(result.last_eval.count("f1"));
  const auto saved = io::load_model_config(result.model_dir);
  CHECK(saved.architectures == std::vector<std::string>{"BertForQuestionAnswering"});
  CHECK(saved.extra["bertforge_data"]["doc_stride"] == 24);

  ft::InputSettings settings;
  const auto evaluated = ft::evaluate_model_dir(result.model_dir, dev, settings, torch::kCPU);
  CHECK(evaluated.report["f1"].get<double>() == Approx(result.last_eval.at("f1")));
  CHECK(evaluated.report["metric"] == "cmrc");

  const auto out = dir + "/out/predictions.json";
  fs::create_directories(dir + "/out");
  REQUIRE(ft::predict_model_dir(result.model_dir, dev, out, settings, torch::kCPU).rows == 12);
  std::ifstream p(out);
  const auto answers = nlohmann::json::parse(p);
  std::ifstream d(dev);
  const auto data = nlohmann::json::parse(d);
  int checked = 0;
  for (const auto& article : data["data"])
    for (const auto& para : article["paragraphs"])
      for (const auto& qa : para["qas"]) {
        const auto id = qa["id"].get<std::string>();
        REQUIRE(answers.contains(id));
        CHECK(para["context"].get<std::string>().find(answers[id].get<std::string>()) != std::string::npos);
        ++checked;
      }
  CHECK(checked == 12);
  CHECK(fs::exists(dir + "/out/nbest_predictions.json"));
}

TEST_CASE("resuming a QA run is bit-identical", "[finetune][qa][resume]") {
  const auto dir = test::temp_dir("qa-resume");
  const auto train = test::cmrc_subset("cmrc2018_train.json", dir + "/train.json", 16);
  const auto dev = test::cmrc_subset("cmrc2018_dev.json", dir + "/dev.json", 8);
  check_resume(test::tiny_token_config(dir, "question_answering", train, dev, test::chinese_vocab_dir(dir), {}, 96),
               dir);
}
