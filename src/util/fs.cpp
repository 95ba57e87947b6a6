#include "util/fs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "util/error.h"

namespace bf {
namespace {

std::string errno_text() { return std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Testing hooks (fs.h), read once from the environment.
struct FaultHooks {
  std::optional<std::uint64_t> write_limit;     // BERTFORGE_FAULT_WRITE_LIMIT_BYTES
  std::optional<std::uint64_t> write_failures;  // BERTFORGE_FAULT_WRITE_FAILURES
  std::uint64_t delay_ms = 0;                   // BERTFORGE_FAULT_WRITE_DELAY_MS
};

std::optional<std::uint64_t> env_count(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || text[0] == '-') fail(std::string(name) + "='" + text + "': not a count");
  std::fprintf(stderr, "warning: testing hook %s=%s is set (atomic file writes are being sabotaged)\n", name, text);
  return v;
}

const FaultHooks& fault_hooks() {
  static const FaultHooks hooks = [] {
    FaultHooks h;
    h.write_limit = env_count("BERTFORGE_FAULT_WRITE_LIMIT_BYTES");
    h.write_failures = env_count("BERTFORGE_FAULT_WRITE_FAILURES");
    h.delay_ms = env_count("BERTFORGE_FAULT_WRITE_DELAY_MS").value_or(0);
    return h;
  }();
  return hooks;
}

std::atomic<std::uint64_t> g_fault_bytes{0};     // written under the limit so far
std::atomic<std::uint64_t> g_fault_failures{0};  // writes failed by the hook so far

// How many of `want` bytes the write-limit hook lets this write have; 0 means
// "the disk is full" (the caller fails with ENOSPC).
std::size_t fault_allowance(std::size_t want) {
  const auto& h = fault_hooks();
  if (!h.write_limit || want == 0) return want;
  if (h.write_failures && g_fault_failures.load() >= *h.write_failures) return want;  // space is back
  std::uint64_t used = g_fault_bytes.load();
  while (true) {
    if (used >= *h.write_limit) {
      ++g_fault_failures;
      return 0;
    }
    const std::uint64_t n = std::min<std::uint64_t>(want, *h.write_limit - used);
    if (g_fault_bytes.compare_exchange_weak(used, used + n)) return static_cast<std::size_t>(n);
  }
}

}  // namespace

namespace {
std::atomic<FileOpenObserver> file_open_observer{nullptr};
}  // namespace

void set_file_open_observer(FileOpenObserver observer) { file_open_observer = observer; }

void notify_file_open(const std::string& path) {
  if (const auto observer = file_open_observer.load()) observer(path);
}

std::string read_file(const std::string& path) {
  notify_file_open(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open for reading: " + errno_text());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail(path + ": read error");
  return buffer.str();
}

void fsync_path(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path + ": cannot open to sync: " + errno_text());
  if (::fsync(fd.get()) != 0 && errno != EINVAL) fail(path + ": fsync failed: " + errno_text());
}

void write_file_atomic(const std::string& path, std::string_view data) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = (dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) fail(path + ": cannot create " + tmp + ": " + errno_text());
    const char* p = data.data();
    std::size_t left = data.size();
    // BERTFORGE_FAULT_WRITE_DELAY_MS: pause half-way, the temporary file half written.
    const std::size_t pause_at = fault_hooks().delay_ms > 0 ? data.size() / 2 : data.size() + 1;
    bool paused = false;
    while (left > 0) {
      const std::size_t done = data.size() - left;
      std::size_t chunk = left;
      if (!paused && done < pause_at && pause_at < data.size()) chunk = pause_at - done;
      if (!paused && done == pause_at) {
        std::this_thread::sleep_for(std::chrono::milliseconds(fault_hooks().delay_ms));
        paused = true;
      }
      chunk = fault_allowance(chunk);
      ssize_t n = -1;
      if (chunk == 0) {
        errno = ENOSPC;  // BERTFORGE_FAULT_WRITE_LIMIT_BYTES: the "disk" is full
      } else {
        n = ::write(fd.get(), p, chunk);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        fail(path + ": write failed: " + why);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      const std::string why = errno_text();
      ::unlink(tmp.c_str());
      fail(path + ": fsync failed: " + why);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    fail(path + ": rename failed: " + why);
  }
  fsync_path(dir.string());
}

int remove_stale_temp_files(const std::string& dir) {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto mark = name.rfind(".tmp.");
    if (name.empty() || name[0] != '.' || mark == std::string::npos || mark == 0) continue;
    const std::string digits = name.substr(mark + 5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    const auto pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still run
    std::error_code rm;
    if (entry.is_regular_file(rm) && fs::remove(entry.path(), rm)) ++removed;
  }
  return removed;
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  notify_file_open(path);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path + ": cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path + ": cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) fail(path + ": not a regular file");
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) return;
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) fail(path + ": mmap failed: " + errno_text());
  data_ = static_cast<const std::uint8_t*>(p);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

}  // namespace bf
