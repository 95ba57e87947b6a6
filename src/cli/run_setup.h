#pragma once
// Set-up shared by the commands that run the trainer (pretrain, finetune):
// logging into the run directory, and the resume checks.
#include <string>

namespace bf::cli {

// Console and run-directory log file (train.log), one format.
void setup_logging(const std::string& run_dir, const std::string& level);

// Refuses a resume whose config differs from the checkpoint's in anything but
// the safe keys (how long, how often), unless allowed.
void refuse_unsafe_changes(const std::string& checkpoint_dir, const std::string& saved, const std::string& now,
                           bool allowed);

// The checkpoint --resume names: "latest" (the run's newest), a checkpoint
// directory, or a run directory (its newest). Verified; empty when not resuming.
std::string resume_checkpoint(const std::string& resume, const std::string& output_dir);

}  // namespace bf::cli
