#pragma once
// SIGTERM and SIGINT as an event a thread can wait for. The handler only
// writes a byte to a pipe (all a signal handler may safely do, whichever
// thread LibTorch's pools leave it to); a watcher thread reads it and calls
// `on_signal`, e.g. to stop accepting connections. A second signal ends the
// process at once (the default action is restored after the first).
#include <functional>
#include <thread>

namespace bf::serve {

class ShutdownSignal {
 public:
  explicit ShutdownSignal(std::function<void()> on_signal);
  ~ShutdownSignal();  // restores the default handlers
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

 private:
  std::thread watcher_;
};

}  // namespace bf::serve
