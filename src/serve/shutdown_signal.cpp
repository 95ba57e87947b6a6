#include "serve/shutdown_signal.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>

#include "util/error.h"

namespace bf::serve {
namespace {

int pipe_fds[2] = {-1, -1};  // the handler sees only globals

void on_signal_raw(int signal_number) {
  std::signal(signal_number, SIG_DFL);
  const char byte = static_cast<char>(signal_number);
  [[maybe_unused]] auto n = ::write(pipe_fds[1], &byte, 1);
}

}  // namespace

ShutdownSignal::ShutdownSignal(std::function<void()> on_signal) {
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) bf::fail("serve: cannot create the signal pipe");
  struct sigaction action {};
  action.sa_handler = on_signal_raw;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  watcher_ = std::thread([fd = pipe_fds[0], on_signal = std::move(on_signal)] {
    char byte = 0;
    // 0 (closed by the destructor) or a signal's byte.
    if (::read(fd, &byte, 1) == 1 && byte != 0) on_signal();
  });
}

ShutdownSignal::~ShutdownSignal() {
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  const char zero = 0;
  [[maybe_unused]] auto n = ::write(pipe_fds[1], &zero, 1);
  watcher_.join();
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  pipe_fds[0] = pipe_fds[1] = -1;
}

}  // namespace bf::serve
