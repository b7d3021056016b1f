#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace dynoherd::testing {
namespace {

using Clock = std::chrono::steady_clock;

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::vector<std::string> ChildEnvironment(const ProcessOptions& options) {
  std::map<std::string, std::string> vars;
  if (options.inherit_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      size_t eq = entry.find('=');
      if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  for (const auto& name : options.unset_env)
    vars.erase(name);
  for (const auto& [name, value] : options.env)
    vars[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : vars)
    out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

}  // namespace

Result<Subprocess> Subprocess::Start(const std::string& binary, const ProcessOptions& options) {
  int in_pipe[2], out_pipe[2], err_pipe[2], exec_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  pid_t pid = ::fork();
  if (pid < 0) return Status::Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execve(binary.c_str(), argv.data(), envp.data());
    int e = errno;
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);

  Subprocess p;
  p.pid_ = pid;
  p.stdin_fd_ = in_pipe[1];
  p.out_fd_ = out_pipe[0];
  p.err_fd_ = err_pipe[0];
  // The exec pipe closes on a successful exec (O_CLOEXEC) or carries errno on failure.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n > 0) {
    p.KillAndReap();
    return Status::FailedPrecondition("cannot run " + binary + ": " + std::strerror(exec_errno));
  }
  // A child that exits without reading its stdin must not kill us with SIGPIPE. Stdin is fed
  // from the same poll loop that drains stdout and stderr, so neither side can block the other.
  ::signal(SIGPIPE, SIG_IGN);
  ::fcntl(p.stdin_fd_, F_SETFL, ::fcntl(p.stdin_fd_, F_GETFL) | O_NONBLOCK);
  p.stdin_pending_ = options.stdin_data;
  return p;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_),
      stdin_fd_(other.stdin_fd_),
      out_fd_(other.out_fd_),
      err_fd_(other.err_fd_),
      stdin_pending_(std::move(other.stdin_pending_)),
      close_stdin_when_written_(other.close_stdin_when_written_),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)),
      wait_status_(other.wait_status_) {
  other.pid_ = -1;
  other.stdin_fd_ = other.out_fd_ = other.err_fd_ = -1;
}

Subprocess::~Subprocess() {
  KillAndReap();
  CloseFd(stdin_fd_);
  CloseFd(out_fd_);
  CloseFd(err_fd_);
}

void Subprocess::KillAndReap() {
  if (pid_ <= 0 || wait_status_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  wait_status_ = status;
}

bool Subprocess::Pump(Clock::time_point deadline) {
  pollfd fds[3];
  int count = 0;
  if (out_fd_ >= 0) fds[count++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[count++] = {err_fd_, POLLIN, 0};
  if (stdin_fd_ >= 0 && !stdin_pending_.empty()) fds[count++] = {stdin_fd_, POLLOUT, 0};
  if (count == 0) return false;
  int ready = ::poll(fds, static_cast<nfds_t>(count), RemainingMs(deadline));
  if (ready < 0 && errno == EINTR) return true;
  if (ready <= 0) return false;
  for (int i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == stdin_fd_) {
      ssize_t w = ::write(stdin_fd_, stdin_pending_.data(), stdin_pending_.size());
      if (w > 0) {
        stdin_pending_.erase(0, static_cast<size_t>(w));
      } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
        stdin_pending_.clear();  // the child closed its stdin; what it read is what it gets
      }
      if (stdin_pending_.empty() && close_stdin_when_written_) CloseFd(stdin_fd_);
      continue;
    }
    char buf[65536];
    ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    bool is_out = fds[i].fd == out_fd_;
    if (n <= 0) {
      CloseFd(is_out ? out_fd_ : err_fd_);
    } else {
      (is_out ? out_ : err_).append(buf, static_cast<size_t>(n));
    }
  }
  return true;
}

bool Subprocess::WaitFor(
    const std::function<bool(const std::string& out, const std::string& err)>& done,
    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done(out_, err_)) {
    if (!Pump(deadline)) return done(out_, err_);
  }
  return true;
}

bool Subprocess::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&](const std::string& out, const std::string& err) {
        return out.find(text) != std::string::npos || err.find(text) != std::string::npos;
      },
      timeout);
}

Status Subprocess::Signal(int signal) {
  if (pid_ <= 0 || wait_status_) return Status::FailedPrecondition("the process has exited");
  if (::kill(pid_, signal) != 0) {
    return Status::Internal(std::string("kill: ") + std::strerror(errno));
  }
  return Status::Ok();
}

void Subprocess::CloseStdin() {
  close_stdin_when_written_ = true;
  if (stdin_pending_.empty()) CloseFd(stdin_fd_);
}

ProcessResult Subprocess::Wait(std::chrono::milliseconds timeout) {
  CloseStdin();
  const auto deadline = Clock::now() + timeout;
  ProcessResult result;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (!Pump(deadline) && Clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
  }
  // Both streams closed: the child is exiting (or handed them to a grandchild). Poll for the
  // exit until the deadline without sleeping for a fixed time.
  while (!result.timed_out && !wait_status_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      wait_status_ = status;
    } else if (Clock::now() >= deadline) {
      result.timed_out = true;
    } else {
      pollfd none{};
      ::poll(&none, 0, 1);
    }
  }
  KillAndReap();
  if (WIFEXITED(*wait_status_)) result.exit_code = WEXITSTATUS(*wait_status_);
  if (WIFSIGNALED(*wait_status_)) result.term_signal = WTERMSIG(*wait_status_);
  result.out = out_;
  result.err = err_;
  return result;
}

ProcessResult RunProcess(const std::string& binary, const ProcessOptions& options) {
  Result<Subprocess> process = Subprocess::Start(binary, options);
  if (!process.ok()) {
    ProcessResult failed;
    failed.err = process.status().message();
    return failed;
  }
  return process->Wait(options.timeout);
}

std::string BuildPath(const std::string& name) {
  const char* dir = std::getenv("DYNOHERD_BUILD_DIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : "build") + "/" + name;
}

std::string DynoherdBinary() {
  return BuildPath("dynoherd");
}

ProcessResult RunDynoherd(std::vector<std::string> args, ProcessOptions options) {
  options.args = std::move(args);
  options.timeout = std::max(options.timeout, std::chrono::milliseconds(60'000));
  return RunProcess(DynoherdBinary(), options);
}

}  // namespace dynoherd::testing
