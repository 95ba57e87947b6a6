#include "cli/run_setup.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include <ATen/Parallel.h>

#include <cstdio>

#include "dist/process_group.h"
#include "train/checkpoint.h"
#include "train/config_diff.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/runtime.h"

namespace bf::cli {
namespace fs = std::filesystem;

void setup_logging(const std::string& run_dir, const std::string& level, int rank) {
  if (rank != 0) {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("bertforge", console);
    auto wanted = spdlog::level::from_str(level);
    logger->set_level(std::max(wanted, spdlog::level::warn));
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%l] %v");
    spdlog::set_default_logger(logger);
    return;
  }
  fs::create_directories(run_dir);
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>((fs::path(run_dir) / "train.log").string());
  auto logger = std::make_shared<spdlog::logger>("bertforge", spdlog::sinks_init_list{console, file});
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void refuse_unsafe_changes(const std::string& checkpoint_dir, const std::string& saved, const std::string& now,
                           bool allowed) {
  std::string unsafe;
  for (const auto& c : train::diff_yaml_configs(saved, now)) {
    if (train::is_added_with_default(c)) continue;
    if (train::is_safe_resume_change(c.key)) {
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
  std::string dir = resume == "latest" ? train::find_latest_checkpoint(output_dir) : resume;
  if (dir.empty()) bf::fail("--resume: no checkpoint under " + output_dir);
  if (resume != "latest" && fs::is_directory(fs::path(resume) / "checkpoints")) dir = train::find_latest_checkpoint(resume);
  train::verify_checkpoint(dir);
  return dir;
}

std::string start_run(const RunStart& start) {
  if (!start.path_problems.empty()) {
    std::string message = start.config_file + ": cannot start:";
    for (const auto& p : start.path_problems) message += "\n  " + p;
    bf::fail(message);
  }
  const auto checkpoint_dir = resume_checkpoint(start.resume, start.output_dir);
  if (!checkpoint_dir.empty()) {
    refuse_unsafe_changes(checkpoint_dir, bf::read_file((fs::path(checkpoint_dir) / "run_config.yaml").string()),
                          start.resolved, start.allow_config_change);
  } else if (!train::find_latest_checkpoint(start.output_dir).empty()) {
    bf::fail("run.output_dir " + start.output_dir +
             " already holds checkpoints: pass --resume to continue that run, or choose another output_dir");
  }
  setup_logging(start.output_dir, start.log_level, start.dist.rank);
  // The processes of one host share its cores.
  int threads = start.threads;
  if (threads == 0 && start.dist.local_world_size > 1)
    threads = std::max(1, bf::available_cores() / start.dist.local_world_size);
  bf::set_threads(threads);
  spdlog::info("bertforge {} {}, config {} (resolved below), device {}, {} threads", BERTFORGE_VERSION, start.command,
               start.config_file, start.device, at::get_num_threads());
  if (start.dist.rank != 0) return checkpoint_dir;
  std::fprintf(stderr, "%s", start.resolved.c_str());
  bf::write_file_atomic((fs::path(start.output_dir) / "config.yaml").string(), start.resolved);
  return checkpoint_dir;
}

DataParallel join_data_parallel(const dist::DistEnv& env, const train::DistributedSection& config,
                                torch::Device device) {
  DataParallel dp;
  dp.env = env;
  dp.device = device;
  if (!env.distributed()) return dp;
  if (device.is_cuda()) dp.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
  dp.comm = dist::connect(env, config, dp.device);
  return dp;
}

train::TrainResult train_on_this_rank(train::TrainingTask& task, const train::TrainerSettings& settings,
                                      const DataParallel& dp, std::int64_t seed, const std::string& checkpoint_dir,
                                      bool allow_config_change) {
  train::seed_rank_generators(seed, dp.env.rank);
  train::Trainer trainer(settings, task, dp.device, dp.comm.get());
  if (!checkpoint_dir.empty()) trainer.resume_from(checkpoint_dir, allow_config_change);
  return trainer.train();
}

}  // namespace bf::cli
