#include "train/run.h"

#include <ATen/Parallel.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "dist/process_group.h"
#include "io/hf_model.h"
#include "train/checkpoint.h"
#include "train/config_diff.h"
#include "model/precision.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/runtime.h"

namespace bf::train {
namespace fs = std::filesystem;

void setup_logging(const std::string& run_dir, const std::string& level, int rank) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (rank != 0) {
    auto logger = std::make_shared<spdlog::logger>("bertforge", console);
    logger->set_level(std::max(spdlog::level::from_str(level), spdlog::level::warn));
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%l] %v");
    spdlog::set_default_logger(logger);
    return;
  }
  fs::create_directories(run_dir);
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>((fs::path(run_dir) / "train.log").string());
  auto logger = std::make_shared<spdlog::logger>("bertforge", spdlog::sinks_init_list{console, file});
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void refuse_unsafe_changes(const std::string& checkpoint_dir, const std::string& saved, const std::string& now,
                           bool allowed) {
  std::string unsafe;
  for (const auto& c : diff_yaml_configs(saved, now)) {
    if (is_added_with_default(c)) continue;
    if (is_safe_resume_change(c.key)) {
      spdlog::info("resume: {} changed {} -> {}", c.key, c.before, c.after);
      continue;
    }
    unsafe += "\n  " + c.key + ": " + c.before + " -> " + c.after;
  }
  if (unsafe.empty()) return;
  if (allowed) {
    spdlog::warn("resume with changed config (--allow-config-change):{}", unsafe);
    return;
  }
  bf::fail("refusing to resume from " + checkpoint_dir + ": the config differs from the one it was trained with:" +
           unsafe + "\n(pass --allow-config-change to resume anyway; the run will no longer equal an "
           "uninterrupted one)");
}

std::string resume_checkpoint(const std::string& resume, const std::string& output_dir) {
  if (resume.empty()) return "";
  std::string dir = resume == "latest" ? find_latest_checkpoint(output_dir) : resume;
  if (dir.empty()) bf::fail("--resume: no checkpoint under " + output_dir);
  if (resume != "latest" && fs::is_directory(fs::path(resume) / "checkpoints")) dir = find_latest_checkpoint(resume);
  return dir;
}

namespace {

// Everything that can be decided before any work: the inputs, the checkpoint
// to resume (read once, here: its files verified, its config and model shape
// compared with this run's). Empty for a fresh run.
std::optional<LoadedCheckpoint> check_before_start(const RunSettings& s) {
  const auto& output_dir = s.trainer.run.output_dir;
  if (!s.input_problems.empty()) {
    std::string message = s.config_file + ": cannot start:";
    for (const auto& p : s.input_problems) message += "\n  " + p;
    bf::fail(message);
  }
  const auto checkpoint_dir = resume_checkpoint(s.resume, output_dir);
  if (checkpoint_dir.empty()) {
    if (!find_latest_checkpoint(output_dir).empty())
      bf::fail("run.output_dir " + output_dir +
               " already holds checkpoints: pass --resume to continue that run, or choose another output_dir");
    return std::nullopt;
  }
  auto checkpoint = read_checkpoint(checkpoint_dir);
  refuse_unsafe_changes(checkpoint_dir, checkpoint.run_config_yaml, s.trainer.run_config_yaml, s.allow_config_change);
  if (s.expected_model) {
    const auto diff = model::shape_differences(checkpoint.model_config(), *s.expected_model);
    if (!diff.empty())
      bf::fail("--resume: " + checkpoint_dir + " holds a model of another size than this config's:" + diff);
  }
  return checkpoint;
}

// The processes of one host share its cores.
void set_thread_count(std::int64_t configured, const dist::DistEnv& env) {
  int threads = static_cast<int>(configured);
  if (threads == 0 && env.local_world_size > 1) threads = std::max(1, bf::available_cores() / env.local_world_size);
  bf::set_threads(threads);
}

}  // namespace

RunOutcome run(const RunSettings& s, const dist::DistEnv& env, const TaskFactory& make_task) {
  const auto asked = model::resolve_device(s.trainer.run.device);
  RunOutcome out;
  auto checkpoint = check_before_start(s);
  if (checkpoint) out.checkpoint_resumed = checkpoint->dir;
  setup_logging(s.trainer.run.output_dir, s.trainer.logging.level, env.rank);
  set_thread_count(s.trainer.run.threads, env);
  spdlog::info("bertforge {} {}, config {} (resolved below), device {}, {} threads", BERTFORGE_VERSION, s.command,
               s.config_file, asked.str(), at::get_num_threads());
  out.is_main = env.rank == 0;
  if (out.is_main) {
    std::fprintf(stderr, "%s", s.trainer.run_config_yaml.c_str());
    bf::write_file_atomic((fs::path(s.trainer.run.output_dir) / "config.yaml").string(), s.trainer.run_config_yaml);
  }

  // Each rank of a data-parallel run on GPUs takes its local GPU.
  out.device = asked;
  if (env.distributed()) {
    if (asked.is_cuda()) out.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
    out.group = dist::connect(env, s.distributed, out.device);
  }
  dist::Collective& comm = out.group ? *out.group : dist::single_process();

  out.task = make_task(RunContext{out.device, comm, env});
  // After the task: building it seeds the data order from the run seed, and
  // rank r > 0 then takes its own dropout stream.
  dist::seed_rank_generators(s.trainer.run.seed, env.rank);
  Trainer trainer(s.trainer, *out.task, out.device, &comm);
  if (checkpoint) {
    trainer.resume_from(*checkpoint, s.allow_config_change);
    checkpoint.reset();  // its optimizer state (2x the model for AdamW) and mappings are not needed while training
  }
  out.result = trainer.train();
  return out;
}

}  // namespace bf::train
