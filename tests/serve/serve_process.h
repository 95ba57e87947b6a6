#pragma once
// `bertforge serve` as a real child process on a free port (--port 0: the
// ready line names the port), and raw sockets for clients that misbehave.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/cli_runner.h"

namespace bf::test {

class ServeProcess {
 public:
  // Starts `bertforge serve --model dir --port 0 <flags>` and waits (bounded)
  // for its ready line.
  // `env`: variables set in the server's environment only (testing hooks).
  ServeProcess(const std::string& model_dir, const std::vector<std::string>& flags, const std::string& log_path,
               const std::vector<std::pair<std::string, std::string>>& env = {})
      : log_(log_path), env_(env) {
    std::vector<std::string> args = {bertforge_bin(), "serve", "--model", model_dir, "--port", "0", "--threads", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) exec(args);
    wait_ready();
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // SIGTERM, then its exit code (bounded wait; -1 if it did not exit normally).
  int terminate(std::chrono::seconds limit = std::chrono::seconds(20)) {
    ::kill(pid_, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -2;
  }

 private:
  [[noreturn]] void exec(const std::vector<std::string>& args) {
    FILE* out = std::fopen(log_.c_str(), "w");
    if (out != nullptr) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  void wait_ready() {
    const std::regex ready("ready: http://127\\.0\\.0\\.1:([0-9]+)");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      std::smatch m;
      const auto text = log();
      if (std::regex_search(text, m, ready)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("bertforge serve exited before it was ready:\n" << text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("bertforge serve was not ready within 60 s:\n" << log());
  }

  std::string log_;
  std::vector<std::pair<std::string, std::string>> env_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A TCP connection to 127.0.0.1:port with a receive timeout.
class RawSocket {
 public:
  RawSocket(int port, int receive_timeout_ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{receive_timeout_ms / 1000, (receive_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawSocket() { ::close(fd_); }
  bool send_all(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Everything until the server closes or the timeout passes.
  std::string receive() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  int fd_ = -1;
};

}  // namespace bf::test
