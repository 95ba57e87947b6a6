#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/cli_runner.h"
#include "../support/reference_model_dirs.h"
#include "../support/shared_data.h"
#include "io/safetensors.h"
#include "util/fs.h"
#include "util/hash.h"

// The bytes of `evaluate`, `predict` and `embed` for every head, pinned: a
// change to the inference code that alters any output (a probability's last
// digit, a float of an embedding) fails here. The models are HF's tiny
// reference models of ../shared/reference (no training involved), given a
// 1,000-token WordPiece vocabulary cut from BERT's and a bertforge_data block;
// the inputs are slices of SST-2, MRPC, WNUT-17 and SQuAD v1.1.
//
// Floats depend on the CPU (BLAS kernels, LibTorch's dispatch). The pins hold
// on a machine whose `model forward` of the tiny classifier gives the bytes
// recorded with them (kMachine); elsewhere every command must still succeed,
// and the byte comparison is skipped with a warning that lists the hashes.

using namespace bf;
namespace fs = std::filesystem;

namespace {

// The hash of the tensors `model forward --threads 1` gives for
// ../shared/reference/tiny-cls on the machine the pins were recorded on.
const char* const kMachine = "367679c809ef2efd";

const std::map<std::string, std::string> kPinned = {
    {"cls_eval.json", "5c19d29eb31a53fa"},
    {"cls_pairs.tsv", "eaf3596203d9c082"},
    {"cls_pred.csv", "19fbf7425556cdb5"},
    {"cls_pred.jsonl", "042e6cc20264635a"},
    {"cls_pred.tsv", "571812cc83be549b"},
    {"cls_text.tsv", "2f6f6ef29eeb65a7"},
    {"embed_cls.safetensors", "69c55b31da8beee7"},
    {"embed_layer1.safetensors", "2da3d0af3b9c6173"},
    {"embed_layers.jsonl", "42ad8c9c60b42baa"},
    {"embed_mean.jsonl", "b5c1487384f94f44"},
    {"embed_pooler.safetensors", "8cc505b6ba9b608d"},
    {"embed_tagger.safetensors", "41f1676bf1c0056c"},
    {"embed_tokens.jsonl", "acb9bccd92360f9f"},
    {"embed_tokens.safetensors", "c67842abe2550cd1"},
    {"multi_eval.json", "51d3f4257ad00e6b"},
    {"multi_pred.jsonl", "fbf793c36617396a"},
    {"qa_eval.json", "ce7e1fca3a323ed6"},
    {"qa_nbest.json", "04f2922490510273"},
    {"qa_pred.json", "516f19b3eb42a3f9"},
    {"regression_eval.json", "999a71f2e5ad7b54"},
    {"regression_pred.tsv", "db8a15ef64a4aa19"},
    {"tag_cluener.jsonl", "5263340acfb0d10c"},
    {"tag_eval.json", "31014a29f597fb8b"},
    {"tag_pred.conll", "b17842a053ebde1d"},
    {"tag_pred.jsonl", "29c55b2edc687eb7"},
};

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// tiny-cls with its classifier cut to the first class: a regression head.
std::vector<std::pair<std::string, torch::Tensor>> regression_weights() {
  io::SafetensorsReader reader(test::shared_path("reference/tiny-cls/model.safetensors"));
  auto all = reader.load_all();
  for (auto& [name, tensor] : all)
    if (name.rfind("classifier.", 0) == 0) tensor = tensor.narrow(0, 0, 1).clone();
  return all;
}

struct Inputs {
  std::string sst_tsv, sst_jsonl, sst_csv, sst_txt, multi_jsonl, regression_tsv, mrpc_tsv;
  std::string wnut_conll, wnut_jsonl, cluener_jsonl, squad_json;
};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Inputs write_inputs(const std::string& dir) {
  Inputs in;
  const auto sst = test::file_lines(test::shared_path("data/sst2/dev.tsv"));
  std::vector<std::pair<std::string, std::string>> rows;  // sentence, label name
  for (std::size_t i = 1; i <= 40; ++i) {
    const auto tab = sst[i].find('\t');
    rows.emplace_back(sst[i].substr(0, tab), sst[i].substr(tab + 1) == "1" ? "positive" : "negative");
  }
  std::string tsv = "sentence\tlabel\n", jsonl, csv = "id,sentence,label\n", txt, multi, regression = "sentence\tscore\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [s, label] = rows[i];
    tsv += s + "\t" + label + "\n";
    if (i < 12) jsonl += nlohmann::json{{"sentence", s}, {"label", label}, {"id", i}}.dump() + "\n";
    if (i < 10) csv += std::to_string(i) + "," + csv_field(s + (i % 3 == 0 ? ", \"quoted\"" : "")) + "," + label + "\n";
    if (i < 10) txt += s + "\n";
    if (i < 20) {
      nlohmann::json labels = nlohmann::json::array();
      if (i % 2 == 0) labels.push_back("negative");
      if (i % 3 == 0) labels.push_back("neutral");
      if (i % 5 != 0) labels.push_back("positive");
      multi += nlohmann::json{{"sentence", s}, {"label", labels}}.dump() + "\n";
      regression += s + "\t" + std::to_string(static_cast<double>(i % 7) * 0.5 - 1.0) + "\n";
    }
  }
  in.sst_tsv = dir + "/sst.tsv";
  in.sst_jsonl = dir + "/sst.jsonl";
  in.sst_csv = dir + "/sst.csv";
  in.sst_txt = dir + "/sst.txt";
  in.multi_jsonl = dir + "/multi.jsonl";
  in.regression_tsv = dir + "/regression.tsv";
  write(in.sst_tsv, tsv);
  write(in.sst_jsonl, jsonl);
  write(in.sst_csv, csv);
  write(in.sst_txt, txt);
  write(in.multi_jsonl, multi);
  write(in.regression_tsv, regression);

  const auto mrpc = test::file_lines(test::shared_path("data/mrpc/dev.tsv"));
  std::string pairs;
  for (std::size_t i = 0; i <= 16; ++i) pairs += mrpc[i] + "\n";
  in.mrpc_tsv = dir + "/mrpc.tsv";
  write(in.mrpc_tsv, pairs);

  // The first 30 sentences of WNUT-17 dev; 10 of them as JSON lines, 6 as CLUENER text.
  std::string conll, tokens_jsonl, cluener;
  std::vector<std::string> words, tags;
  int sentences = 0;
  for (const auto& line : test::file_lines(test::shared_path("data/wnut17/dev.conll"))) {
    if (sentences == 30) break;
    conll += line + "\n";
    if (!line.empty()) {
      const auto tab = line.find('\t');
      words.push_back(line.substr(0, tab));
      tags.push_back(line.substr(tab + 1));
      continue;
    }
    if (words.empty()) continue;
    if (sentences < 10) tokens_jsonl += nlohmann::json{{"tokens", words}, {"tags", tags}}.dump() + "\n";
    if (sentences >= 10 && sentences < 16) {
      std::string text;
      for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
      cluener += nlohmann::json{{"text", text}}.dump() + "\n";
    }
    words.clear();
    tags.clear();
    ++sentences;
  }
  in.wnut_conll = dir + "/wnut.conll";
  in.wnut_jsonl = dir + "/wnut.jsonl";
  in.cluener_jsonl = dir + "/cluener.jsonl";
  write(in.wnut_conll, conll);
  write(in.wnut_jsonl, tokens_jsonl);
  write(in.cluener_jsonl, cluener);

  // The first 16 questions of SQuAD v1.1 dev.
  const auto squad = nlohmann::json::parse(test::slurp_file(test::shared_path("data/squad_v1.1/dev-v1.1.json")));
  nlohmann::json data = nlohmann::json::array();
  int taken = 0;
  for (const auto& article : squad["data"]) {
    nlohmann::json a = {{"title", article["title"]}, {"paragraphs", nlohmann::json::array()}};
    for (const auto& p : article["paragraphs"]) {
      nlohmann::json para = {{"context", p["context"]}, {"qas", nlohmann::json::array()}};
      for (const auto& qa : p["qas"])
        if (taken < 16) {
          para["qas"].push_back(qa);
          ++taken;
        }
      if (!para["qas"].empty()) a["paragraphs"].push_back(para);
    }
    if (!a["paragraphs"].empty()) data.push_back(a);
    if (taken == 16) break;
  }
  in.squad_json = dir + "/squad.json";
  write(in.squad_json, nlohmann::json{{"version", "1.1"}, {"data", data}}.dump());
  return in;
}

// An output's hash, the run's temporary directory replaced by a fixed name
// (reports and embedding metadata name their files). A safetensors file's
// header length and the spaces that pad its header change with the
// directory's length: its header counts without them.
std::string output_hash(const std::string& path, const std::string& root) {
  auto bytes = test::slurp_file(path);
  if (path.size() > 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0) {
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    auto header = bytes.substr(8, length);
    header.erase(header.find_last_not_of(' ') + 1);
    bytes = header + bytes.substr(8 + length);
  }
  for (auto at = bytes.find(root); at != std::string::npos; at = bytes.find(root, at))
    bytes.replace(at, root.size(), "ROOT");
  return hash64_hex(bytes);
}

}  // namespace

TEST_CASE("evaluate, predict and embed give the pinned bytes for every head", "[cli][pinned]") {
  const auto root = test::temp_dir("cli-pinned");
  const auto in = write_inputs(root);
  const auto cls = test::reference_classifier(root);
  auto multi_patch = test::reference_cls_data();
  multi_patch["problem_type"] = "multi_label_classification";
  const auto multi = test::reference_model_dir(root, "multi", "tiny-cls", multi_patch);
  nlohmann::json regression_patch = {{"problem_type", "regression"},
                                     {"num_labels", 1},
                                     {"id2label", nullptr},
                                     {"label2id", nullptr},
                                     {"bertforge_data", {{"text_column", "sentence"}, {"label_column", "score"}}}};
  const auto regression =
      test::reference_model_dir(root, "regression", "tiny-cls", regression_patch, regression_weights());
  const auto tagger = test::reference_tagger(root);
  const auto reader = test::reference_reader(root);

  // name -> command; each writes ROOT/out/<name>.
  const auto out = root + "/out/";
  fs::create_directories(out);
  const std::string flags = " --batch-size 8 --threads 1";
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"cls_eval.json", "evaluate --model " + cls + " --data " + in.sst_tsv + " --output " + out + "cls_eval.json"},
      {"cls_pred.tsv", "predict --model " + cls + " --input " + in.sst_tsv + " --output " + out + "cls_pred.tsv"},
      {"cls_pred.jsonl", "predict --model " + cls + " --input " + in.sst_jsonl + " --output " + out + "cls_pred.jsonl"},
      {"cls_pred.csv", "predict --model " + cls + " --input " + in.sst_csv + " --output " + out + "cls_pred.csv"},
      {"cls_text.tsv", "predict --model " + cls + " --format text --input " + in.sst_txt + " --output " + out + "cls_text.tsv"},
      {"cls_pairs.tsv", "predict --model " + cls + " --input " + in.mrpc_tsv +
                            " --text-column '#1 String' --text-pair-column '#2 String' --output " + out + "cls_pairs.tsv"},
      {"multi_eval.json", "evaluate --model " + multi + " --data " + in.multi_jsonl + " --output " + out + "multi_eval.json"},
      {"multi_pred.jsonl", "predict --model " + multi + " --input " + in.multi_jsonl + " --output " + out + "multi_pred.jsonl"},
      {"regression_eval.json", "evaluate --model " + regression + " --data " + in.regression_tsv + " --output " + out +
                                   "regression_eval.json"},
      {"regression_pred.tsv", "predict --model " + regression + " --input " + in.regression_tsv + " --output " + out +
                                  "regression_pred.tsv"},
      {"tag_eval.json", "evaluate --model " + tagger + " --data " + in.wnut_conll + " --output " + out + "tag_eval.json"},
      {"tag_pred.conll", "predict --model " + tagger + " --input " + in.wnut_conll + " --output " + out + "tag_pred.conll"},
      {"tag_pred.jsonl", "predict --model " + tagger + " --input " + in.wnut_jsonl + " --output " + out + "tag_pred.jsonl"},
      {"tag_cluener.jsonl", "predict --model " + tagger + " --input " + in.cluener_jsonl + " --output " + out +
                                "tag_cluener.jsonl"},
      {"qa_eval.json", "evaluate --model " + reader + " --data " + in.squad_json + " --output " + out + "qa_eval.json"},
      {"qa_pred.json", "predict --model " + reader + " --input " + in.squad_json + " --output " + out + "qa_pred.json"},
      {"embed_cls.safetensors", "embed --model " + cls + " --input " + in.sst_tsv + " --text-column sentence --output " +
                                    out + "embed_cls.safetensors"},
      {"embed_mean.jsonl", "embed --model " + cls + " --input " + in.sst_jsonl + " --text-column sentence --pooling mean "
                           "--output " + out + "embed_mean.jsonl"},
      {"embed_pooler.safetensors", "embed --model " + cls + " --input " + in.sst_tsv +
                                       " --text-column sentence --pooling pooler --output " + out +
                                       "embed_pooler.safetensors"},
      {"embed_tokens.safetensors", "embed --model " + cls + " --input " + in.sst_txt + " --format text --pooling none "
                                   "--output " + out + "embed_tokens.safetensors"},
      {"embed_tokens.jsonl", "embed --model " + cls + " --input " + in.sst_txt + " --format text --pooling none "
                             "--max-seq-length 12 --output " + out + "embed_tokens.jsonl"},
      {"embed_layers.jsonl", "embed --model " + cls + " --input " + in.sst_txt + " --format text --pooling mean "
                             "--all-layers --output " + out + "embed_layers.jsonl"},
      {"embed_layer1.safetensors", "embed --model " + cls + " --input " + in.mrpc_tsv + " --text-column '#1 String' "
                                   "--text-pair-column '#2 String' --layer 1 --output " + out +
                                   "embed_layer1.safetensors"},
      {"embed_tagger.safetensors", "embed --model " + tagger + " --input " + in.sst_txt + " --format text --pooling "
                                   "mean --output " + out + "embed_tagger.safetensors"},
  };
  std::map<std::string, std::string> hashes;
  for (const auto& [name, command] : commands) {
    INFO(command);
    const auto r = test::run_bertforge(command + flags);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::file_size(out + name) > 0);
    hashes[name] = output_hash(out + name, root);
  }
  hashes["qa_nbest.json"] = output_hash(out + "nbest_predictions.json", root);

  const auto forward = test::run_bertforge("model forward --threads 1 --model " + test::shared_path("reference/tiny-cls") +
                                           " --input " + test::shared_path("reference/tiny-cls/input.json") +
                                           " --output " + root + "/forward.safetensors");
  REQUIRE(forward.exit_code == 0);
  std::string logits;  // the tensors' bytes only (the metadata names paths)
  io::SafetensorsReader forwarded(root + "/forward.safetensors");
  for (const auto& [name, tensor] : forwarded.load_all())
    logits += name + std::string(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes());
  const auto machine = hash64_hex(logits);
  std::string actual;
  for (const auto& [name, hash] : hashes) actual += "      {\"" + name + "\", \"" + hash + "\"},\n";
  if (machine != kMachine) {
    WARN("outputs not compared: this machine computes the reference forward as " + machine + ", the pins were " +
         "recorded where it is " + kMachine + ". Its hashes:\n" + actual);
    return;
  }
  INFO("the outputs' hashes now:\n" << actual);
  for (const auto& [name, hash] : kPinned) {
    INFO(name);
    CHECK(hashes.at(name) == hash);
  }
  CHECK(hashes.size() == kPinned.size());
}
