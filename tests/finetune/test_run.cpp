// Fine-tuning end to end on SST-2 slices: training with the shared trainer,
// exact resume, predict agreeing with evaluate, every task type and format.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "finetune/classify/classify_files.h"
#include "finetune/classify/classify_task.h"
#include "finetune/finetune_run.h"
#include "finetune/row_reader.h"
#include "finetune/tasks.h"
#include "ft_fixture.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "util/fs.h"

using namespace bf;
namespace fs = std::filesystem;

namespace {

train::TrainResult run(const ft::FinetuneConfig& config, const std::string& resume_from = "") {
  ft::classify::ClassifyTask task(config, torch::kCPU);
  return test::train_task(task, config, resume_from);
}

struct Slices {
  std::string dir, train, dev;
};

Slices sst2(const std::string& name, int train_rows = 160, int dev_rows = 48) {
  Slices s;
  s.dir = test::temp_dir(name);
  s.train = test::sst2_slice("train", s.dir + "/train.tsv", train_rows);
  s.dev = test::sst2_slice("dev", s.dir + "/dev.tsv", dev_rows);
  return s;
}

}  // namespace

TEST_CASE("fine-tuning writes a model with the label map, best model and evaluations", "[finetune][run]") {
  const auto s = sst2("ft-run");
  auto config = test::tiny_finetune_config(s.dir, s.train, s.dev);
  const auto result = run(config);
  REQUIRE(result.steps == 6);
  REQUIRE(result.last_eval.count("accuracy"));
  REQUIRE(result.last_eval.count("mcc"));
  const auto model_config = io::load_model_config(result.model_dir);
  CHECK(model_config.id2label == std::vector<std::string>{"0", "1"});
  CHECK(model_config.problem_type == std::string("single_label_classification"));
  CHECK(model_config.architectures == std::vector<std::string>{"BertForSequenceClassification"});
  CHECK(model_config.extra["bertforge_data"]["text_column"] == "sentence");
  CHECK(fs::exists(s.dir + "/run/best_model/config.json"));
  CHECK(fs::exists(s.dir + "/run/best_model/vocab.txt"));
  CHECK(test::metrics_records(s.dir + "/run", "eval").size() == 2);
  CHECK(test::metrics_records(s.dir + "/run", "train").at(6).count("accuracy"));
}

TEST_CASE("predict agrees with evaluate on the same file", "[finetune][run][predict]") {
  const auto s = sst2("ft-predict");
  auto config = test::tiny_finetune_config(s.dir, s.train, s.dev, {"training.max_steps=12"});
  const auto result = run(config);
  auto classifier = ft::open_model(result.model_dir);
  ft::InputSettings settings;
  settings.batch_size = 5;  // batches differ from evaluate's: the numbers must not
  const auto evaluated = ft::classify::evaluate_file(classifier, s.dev, settings);
  settings.batch_size = 16;
  const auto out = s.dir + "/predictions.tsv";
  const auto summary = ft::classify::predict_file(classifier, s.dev, out, settings, /*chunk_rows=*/7);
  REQUIRE(summary.rows == 48);

  ft::Columns columns{"sentence", "", "label", true, {}, true};
  ft::RowReader reader(out, ft::FileFormat::Tsv, columns);
  REQUIRE(reader.header() == std::vector<std::string>{"sentence", "label", "prediction", "prob_0", "prob_1"});
  ft::Row row;
  int right = 0, n = 0;
  while (reader.next(row)) {
    right += row.fields[2] == row.fields[1];
    ++n;
    CHECK(std::stod(row.fields[3]) + std::stod(row.fields[4]) == Approx(1.0).margin(2e-6));
  }
  REQUIRE(n == 48);
  CHECK(static_cast<double>(right) / n == Approx(evaluated.metrics.at("accuracy")));

  // JSONL in, JSONL out, with the probabilities as an object.
  std::ofstream(s.dir + "/in.jsonl") << "{\"sentence\": \"a gorgeous , witty , seductive movie .\", \"id\": 7}\n";
  ft::classify::predict_file(classifier, s.dir + "/in.jsonl", s.dir + "/out.jsonl", ft::InputSettings{});
  std::ifstream in(s.dir + "/out.jsonl");
  std::string line;
  REQUIRE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  CHECK(j["id"] == 7);
  CHECK(j["probabilities"].size() == 2);
  CHECK((j["prediction"] == "0" || j["prediction"] == "1"));
}

TEST_CASE("the final evaluation, made from memory, equals evaluate on the chosen model directory",
          "[finetune][run][final]") {
  const auto s = sst2("ft-final");
  const auto test_file = test::sst2_slice("dev", s.dir + "/test.tsv", 20);
  test::write_text(s.dir + "/finetune.yaml",
                   test::tiny_finetune_yaml(s.dir, s.train, s.dev, "  test: " + test_file + "\n"));
  ft::FinetuneRequest request;
  request.config_file = s.dir + "/finetune.yaml";
  request.overrides = {"training.max_steps=12"};
  static std::vector<std::string> opened;
  opened.clear();
  bf::set_file_open_observer([](const std::string& path) { opened.push_back(path); });
  const auto out = ft::run_finetuning(request, dist::DistEnv{});
  bf::set_file_open_observer(nullptr);
  REQUIRE(out.evaluations.size() == 2);
  CHECK(out.chosen_model == out.result.best_model_dir);
  // Nothing of the chosen model is read back: its weights come from memory.
  std::vector<std::string> chosen;
  for (const auto& path : opened)
    if (path.rfind(out.chosen_model, 0) == 0) chosen.push_back(fs::path(path).filename().string());
  CHECK(chosen.empty());
  CHECK_FALSE(out.result.best_weights.empty());
  ft::InputSettings settings;
  settings.batch_size = 16;  // eval.batch_size
  for (const auto& e : out.evaluations) {
    INFO(e.split);
    const auto again = ft::evaluate_model_dir(out.chosen_model, e.path, settings, torch::kCPU);
    CHECK(e.report.dump() == again.report.dump());
    CHECK(e.table == again.table);
    CHECK(bf::read_file(e.saved) == e.report.dump(2) + "\n");
  }
}

TEST_CASE("resuming a fine-tuning run is bit-identical to an uninterrupted one", "[finetune][run][resume]") {
  const auto s = sst2("ft-resume", 40, 16);  // 5 batches per epoch: 6 steps cross an epoch boundary
  auto straight = test::tiny_finetune_config(s.dir, s.train, s.dev, {"data.group_by_length=true"});
  straight.run.output_dir = s.dir + "/straight";
  REQUIRE(run(straight).steps == 6);

  auto first = straight;
  first.run.output_dir = s.dir + "/resumed";
  first.training.session_steps = 2;
  REQUIRE(run(first).stopped_by == train::StopReason::SessionSteps);
  auto second = straight;
  second.run.output_dir = s.dir + "/resumed";
  const auto checkpoint = train::find_latest_checkpoint(second.run.output_dir);
  REQUIRE(checkpoint.find("step-00000002") != std::string::npos);
  REQUIRE(run(second, checkpoint).steps == 6);

  const auto a = test::metrics_records(s.dir + "/straight", "train");
  const auto b = test::metrics_records(s.dir + "/resumed", "train");
  REQUIRE(a.size() == 6);
  REQUIRE(b.size() == 6);
  for (const auto& [step, record] : a) {
    INFO("step " << step);
    for (const char* key : {"loss", "accuracy", "grad_norm", "lr", "epoch"})
      REQUIRE(record[key].get<double>() == b.at(step)[key].get<double>());
  }
  CHECK(a.at(6)["epoch"].get<double>() > 1.0);
  const auto ea = test::metrics_records(s.dir + "/straight", "eval");
  const auto eb = test::metrics_records(s.dir + "/resumed", "eval");
  REQUIRE(ea.at(6)["loss"].get<double>() == eb.at(6)["loss"].get<double>());
  io::SafetensorsReader x(s.dir + "/straight/model/model.safetensors");
  io::SafetensorsReader y(s.dir + "/resumed/model/model.safetensors");
  for (const auto& e : x.entries()) {
    INFO(e.name);
    REQUIRE(torch::equal(x.load(e.name), y.load(e.name)));
  }
}

TEST_CASE("multi-label (JSONL) and regression (CSV, gzip) tasks train and evaluate", "[finetune][run][tasks]") {
  const auto dir = test::temp_dir("ft-tasks-run");
  const auto sentences = test::sst2_sentences(64);
  std::string multi, csv = "text,score\n";
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto& t = sentences[i];
    nlohmann::json labels = nlohmann::json::array();
    if (t.size() > 30) labels.push_back("long");
    if (t.find(',') != std::string::npos) labels.push_back("comma");
    if (i % 3 == 0) labels.push_back("third");
    multi += nlohmann::json{{"sentence", t}, {"label", labels}}.dump() + "\n";
    std::string quoted = "\"";
    for (char c : t) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    csv += quoted + "\"," + std::to_string(static_cast<double>(t.size()) / 20.0) + "\n";
  }
  test::write_text(dir + "/multi.jsonl", multi);
  test::write_gzip(dir + "/reg.csv.gz", csv);

  auto m = test::tiny_finetune_config(dir, dir + "/multi.jsonl", dir + "/multi.jsonl",
                                      {"training.max_steps=3", "run.output_dir=" + dir + "/multi"},
                                      "  task: multi_label\n");
  const auto mr = run(m);
  CHECK(mr.last_eval.count("micro_f1"));
  CHECK(mr.last_eval.count("exact_match"));
  auto mc = ft::open_model(mr.model_dir);
  CHECK(ft::task_of(mc.config()) == ft::TaskType::MultiLabel);
  CHECK(ft::LabelMap::of(mc.config()).names() == std::vector<std::string>{"comma", "long", "third"});

  auto r = test::tiny_finetune_config(dir, dir + "/reg.csv.gz", dir + "/reg.csv.gz",
                                      {"training.max_steps=3", "run.output_dir=" + dir + "/reg", "data.text_column=text",
                                       "data.label_column=score", "model.head.type=mean"},
                                      "  task: regression\n");
  const auto rr = run(r);
  CHECK(rr.last_eval.count("pearson"));
  CHECK(rr.last_eval.count("spearman"));
  CHECK(std::isfinite(rr.last_eval.at("loss")));
  auto rc = ft::open_model(rr.model_dir);
  CHECK(ft::task_of(rc.config()) == ft::TaskType::Regression);
  CHECK(rc.config().num_labels == 1);
}

TEST_CASE("class weights and a pretrained encoder: init_from loads the encoder, the head is new",
          "[finetune][run][init]") {
  const auto s = sst2("ft-init");
  auto base = test::tiny_finetune_config(s.dir, s.train, s.dev, {"training.max_steps=2", "data.class_weights=balanced"});
  const auto first = run(base);
  // A fine-tuned model's encoder serves as the starting point of another run.
  auto next = test::tiny_finetune_config(
      s.dir, s.train, s.dev,
      {"training.max_steps=2", "run.output_dir=" + s.dir + "/second", "model.init_from=" + first.model_dir,
       "data.class_weights=1,3", "model.head.type=attention"});
  next.model.tokenizer.clear();  // the tokenizer comes with init_from
  const auto second = run(next);
  CHECK(second.steps == 2);
  const auto config = io::load_model_config(second.model_dir);
  CHECK(model::HeadOptions::of(config).type == model::HeadType::Attention);

  const auto bad = test::tiny_finetune_config(s.dir, s.train, s.dev, {"data.class_weights=1,2,3"});
  CHECK_THROWS_WITH(ft::classify::ClassifyTask(bad, torch::kCPU), Catch::Matchers::Contains("3 weights for 2 classes"));
}

TEST_CASE("config errors name the key", "[finetune][config]") {
  const auto s = sst2("ft-config", 8, 8);
  CHECK_THROWS_WITH(test::tiny_finetune_config(s.dir, s.train, s.dev, {"data.taks=regression"}),
                    Catch::Matchers::Contains("data.taks"));
  CHECK_THROWS_WITH(test::tiny_finetune_config(s.dir, s.train, s.dev, {"eval.metric=pearson"}),
                    Catch::Matchers::Contains("eval.metric"));
  CHECK_THROWS_WITH(test::tiny_finetune_config(s.dir, s.train, s.dev, {"model.head.type=max"}),
                    Catch::Matchers::Contains("model.head.type"));
  auto config = test::tiny_finetune_config(s.dir, s.train, s.dev, {"data.dev=missing.tsv"});
  const auto problems = ft::check_finetune_paths(config);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Matchers::Contains("data.dev"));
}

TEST_CASE("early stopping ends the run like max_steps and leaves later runs alone", "[finetune][run][patience]") {
  const auto s = sst2("ft-patience");
  // A learning rate too small to change a prediction: no evaluation improves
  // on the first, so patience 1 stops the run at the second (step 6 of 30).
  auto config = test::tiny_finetune_config(
      s.dir, s.train, s.dev,
      {"training.max_steps=30", "eval.patience=1", "eval.metric=accuracy", "optimizer.lr=1.0e-12"});
  const auto stopped = run(config);
  CHECK(stopped.stopped_by == train::StopReason::EarlyStopping);
  CHECK(stopped.steps == 6);
  CHECK(fs::exists(stopped.model_dir + "/config.json"));  // exported as a finished run
  CHECK(fs::exists(s.dir + "/run/best_model/config.json"));

  // Early stopping is the task's state, not a process-wide stop request.
  const auto again = sst2("ft-patience-after");
  const auto full = run(test::tiny_finetune_config(again.dir, again.train, again.dev));
  CHECK(full.stopped_by == train::StopReason::MaxSteps);
  CHECK(full.steps == 6);
}
