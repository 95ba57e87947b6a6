// bertforge probe
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "finetune/probe/probe_model.h"
#include "util/config_check.h"
#include "util/fs.h"

namespace bf::cli {
namespace {

struct ProbeFlags {
  CommonOptions common;
  ft::ProbeRequest request;
  std::string mode = "linear";
  std::string output;
};

void print_result(const char* what, const ft::ProbeResult& r) {
  std::printf("  %-13s accuracy %6.2f %%   macro-F1 %.4f   (%lld train / %lld scored examples, %.1f s)\n", what,
              100 * r.accuracy, r.macro_f1, static_cast<long long>(r.train_examples),
              static_cast<long long>(r.dev_examples), r.seconds);
}

}  // namespace

void add_probe_command(CLI::App& app) {
  auto f = std::make_shared<ProbeFlags>();
  auto& s = f->request.section;
  auto* cmd = app.add_subcommand("probe", "What an encoder is worth on a labelled task: a linear probe on frozen "
                                          "features, or a short fixed fine-tuning");
  add_common_options(*cmd, f->common);
  cmd->add_option("--model", f->request.model_dir, "Model directory, run directory or checkpoint")->required();
  cmd->add_option("--train", s.train, "Labelled training file (TSV, CSV, JSONL)")->required();
  cmd->add_option("--dev", s.dev, "Labelled file the probe is scored on")->required();
  cmd->add_option("--mode", f->mode, "linear (frozen encoder, logistic regression) or finetune")
      ->check(CLI::IsMember({"linear", "finetune"}));
  cmd->add_option("--labels-per-class", s.labels_per_class, "Training examples kept per class (0 = all)");
  cmd->add_option("--seed", s.seed, "The probe's seed (subsampling, fine-tuning, random init)");
  cmd->add_option("--max-seq-length", s.max_seq_length, "Pieces per example");
  cmd->add_option("--text-column", s.text_column, "Text column (default text)");
  cmd->add_option("--text-pair-column", s.text_pair_column, "Second text column of pair tasks");
  cmd->add_option("--label-column", s.label_column, "Label column (default label)");
  cmd->add_option("--steps", s.steps, "finetune: optimizer steps");
  cmd->add_option("--lr", s.lr, "finetune: peak learning rate");
  cmd->add_option("--batch-size", s.batch_size, "finetune: examples per step");
  cmd->add_flag("--with-random-init", f->request.with_random_init,
                "Also probe random weights of the same shape: what the weights add over none");
  cmd->add_option("--device", f->request.device, "cpu, cuda or auto");
  cmd->add_option("--output", f->output, "Also write the result as JSON here");
  cmd->callback([f] {
    apply_common_options(f->common);
    f->request.section.mode = *ft::probe_mode_names().parse(f->mode);
    // The section's own checks (ranges, cross-field rules), named as flags.
    check_config(f->request.section, "bertforge probe options", [](std::string key) {
      std::replace(key.begin(), key.end(), '_', '-');
      return "--" + key;
    });
    const auto report = ft::probe_model_dir(f->request);
    std::printf("probe (%s) of %s on %s:\n", f->mode.c_str(), f->request.model_dir.c_str(),
                f->request.section.dev.c_str());
    print_result("model", report.model);
    if (report.random_init) {
      print_result("random init", *report.random_init);
      std::printf("  the weights add %+.2f points of accuracy over random initialisation\n",
                  100 * (report.model.accuracy - report.random_init->accuracy));
    }
    if (!f->output.empty()) bf::write_file_atomic(f->output, report.to_json().dump(2) + "\n");
  });
}

}  // namespace bf::cli
