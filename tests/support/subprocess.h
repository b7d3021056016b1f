// Runs a program for end-to-end tests: arguments, environment and stdin in; stdout, stderr and
// the exit status out. Every wait has a deadline after which the child is killed, so a hung
// binary fails its test instead of hanging the suite. POSIX only.
//
//   ProcessResult r = RunProcess(DynoherdBinary(), {.args = {"validate", "-f", "-"},
//                                                   .stdin_data = yaml});
//   CHECK(r.exit_code == 1);
//
// For daemons (`dynoherd run`): Subprocess::Start, WaitForOutput("listening"), Signal(SIGTERM),
// Wait().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace dynoherd::testing {

struct ProcessOptions {
  // Every member has an initializer so tests can name only what they need:
  // {.args = {...}, .stdin_data = "..."}.
  std::vector<std::string> args = {};  // without argv[0]
  // Added to (or replacing) the inherited environment; names in `unset_env` are removed from it.
  std::map<std::string, std::string> env = {};
  std::vector<std::string> unset_env = {};
  bool inherit_env = true;  // false: the child sees only `env`
  // Fed to the child's stdin while its output is read. RunProcess then closes stdin; with
  // Subprocess::Start it stays open until CloseStdin() or Wait().
  std::string stdin_data = {};
  std::string working_dir = {};               // empty: the caller's
  std::chrono::milliseconds timeout{30'000};  // RunProcess: kill the child after this
};

struct ProcessResult {
  int exit_code = -1;      // the exit status, or -1 when killed by a signal
  int term_signal = 0;     // the signal that ended it, 0 when it exited
  bool timed_out = false;  // we killed it at the deadline
  std::string out;
  std::string err;
};

// A running child process with pipes to its stdin, stdout and stderr.
class Subprocess {
 public:
  // Starts `binary` (a path; no PATH search) with `options`.
  static Result<Subprocess> Start(const std::string& binary, const ProcessOptions& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();  // kills and reaps the child if it is still running

  pid_t pid() const { return pid_; }

  // Reads output until `done(out, err)` is true (true), or the child closes both streams or
  // `timeout` passes (false). Output read so far stays available in out() / err().
  bool WaitFor(const std::function<bool(const std::string& out, const std::string& err)>& done,
               std::chrono::milliseconds timeout);
  // WaitFor either stream to contain `text`.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);

  Status Signal(int signal);
  void CloseStdin();

  // Closes stdin, reads everything until the child exits, and reaps it. If it has not exited
  // after `timeout`, kills it (SIGKILL) and sets timed_out.
  ProcessResult Wait(std::chrono::milliseconds timeout);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  Subprocess() = default;
  // Feeds stdin and reads what is available on stdout/stderr, waiting until `deadline` for
  // something to happen. false when there is nothing left to do or the deadline passed.
  bool Pump(std::chrono::steady_clock::time_point deadline);
  void KillAndReap();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string stdin_pending_;  // not yet written to the child
  bool close_stdin_when_written_ = false;
  std::string out_;
  std::string err_;
  std::optional<int> wait_status_;
};

// Start, write options.stdin_data, close stdin and Wait(options.timeout). A child that could not
// be started gives exit_code -1 and the reason in `err`.
ProcessResult RunProcess(const std::string& binary, const ProcessOptions& options);

// $DYNOHERD_BUILD_DIR/<name>, the build tree CTest runs in (cmake/dynoherd.cmake sets it);
// "build/<name>" when the variable is unset (running a test binary by hand from the source root).
std::string BuildPath(const std::string& name);
// The dynoherd binary under test.
std::string DynoherdBinary();
// RunProcess(DynoherdBinary()) with `args`, from the test's working directory (the source root).
// The timeout is at least a minute: whole simulations run under the sanitizers too.
ProcessResult RunDynoherd(std::vector<std::string> args, ProcessOptions options = {});

}  // namespace dynoherd::testing
