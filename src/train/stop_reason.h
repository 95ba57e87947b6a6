#pragma once
// Why a training run ended. A run "finished" when it reached its schedule's
// end or stopped early by patience; the others stopped and want --resume.
#include <string>

namespace bf::train {

enum class StopReason { MaxSteps, MaxEpochs, EarlyStopping, MaxTime, SessionSteps, Signal };

inline const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::MaxSteps: return "max_steps";
    case StopReason::MaxEpochs: return "max_epochs";
    case StopReason::EarlyStopping: return "early_stopping";
    case StopReason::MaxTime: return "max_time";
    case StopReason::SessionSteps: return "session_steps";
    case StopReason::Signal: return "signal";
  }
  return "unknown";
}

inline bool reached_schedule_end(StopReason r) { return r == StopReason::MaxSteps || r == StopReason::MaxEpochs; }
inline bool finished(StopReason r) { return reached_schedule_end(r) || r == StopReason::EarlyStopping; }

}  // namespace bf::train
