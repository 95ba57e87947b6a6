#include "cli/run_setup.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "train/checkpoint.h"
#include "train/config_diff.h"
#include "util/error.h"

namespace bf::cli {
namespace fs = std::filesystem;

void setup_logging(const std::string& run_dir, const std::string& level) {
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

}  // namespace bf::cli
