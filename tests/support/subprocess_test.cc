#include "tests/support/subprocess.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace dynoherd::testing {
namespace {

using namespace std::chrono_literals;

const std::string kShell = "/bin/sh";

TEST_CASE("RunProcess captures stdout, stderr and the exit code") {
  ProcessResult r = RunProcess(kShell, {.args = {"-c", "echo out; echo err >&2; exit 3"}});
  CHECK(r.exit_code == 3);
  CHECK(r.term_signal == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
}

TEST_CASE("RunProcess feeds stdin while draining stdout, so large data cannot deadlock") {
  std::string big(3 << 20, 'x');  // far beyond a pipe buffer in both directions
  ProcessResult r = RunProcess("/bin/cat", {.stdin_data = big});
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == big.size());
  CHECK(r.out == big);
}

TEST_CASE("RunProcess passes, replaces and removes environment variables") {
  setenv("DYNOHERD_SUBPROCESS_TEST_INHERITED", "kept", 1);
  setenv("DYNOHERD_SUBPROCESS_TEST_REMOVED", "gone", 1);
  ProcessResult r =
      RunProcess(kShell, {.args = {"-c",
                                   "echo \"$DYNOHERD_SUBPROCESS_TEST_INHERITED,"
                                   "${DYNOHERD_SUBPROCESS_TEST_REMOVED-unset},$EXTRA\""},
                          .env = {{"EXTRA", "added"}},
                          .unset_env = {"DYNOHERD_SUBPROCESS_TEST_REMOVED"}});
  CHECK(r.out == "kept,unset,added\n");

  ProcessResult bare = RunProcess(
      kShell, {.args = {"-c", "echo \"${DYNOHERD_SUBPROCESS_TEST_INHERITED-unset},$ONLY\""},
               .env = {{"ONLY", "this"}},
               .inherit_env = false});
  CHECK(bare.out == "unset,this\n");
}

TEST_CASE("RunProcess runs in the working directory it is given") {
  TempDir dir;
  ProcessResult r = RunProcess(kShell, {.args = {"-c", "pwd -P"}, .working_dir = dir.path()});
  CHECK(r.out == std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST_CASE("a binary that cannot be started is reported, not run") {
  ProcessResult r = RunProcess("/nonexistent/dynoherd", {});
  CHECK(r.exit_code == -1);
  CHECK(r.err.find("cannot run /nonexistent/dynoherd") != std::string::npos);
}

TEST_CASE("Wait kills a child that outlives its deadline") {
  // A zero timeout expires at once: no test time passes waiting for it.
  auto p = Subprocess::Start("/bin/sleep", {.args = {"1000"}});
  REQUIRE(p.ok());
  ProcessResult r = p->Wait(0ms);
  CHECK(r.timed_out);
  CHECK(r.exit_code == -1);
  CHECK(r.term_signal == SIGKILL);
}

TEST_CASE("a daemon-style child: wait for a line, signal it, collect the rest") {
  auto p = Subprocess::Start(kShell, {.args = {"-c", "echo ready >&2; exec sleep 1000"}});
  REQUIRE(p.ok());
  REQUIRE(p->WaitForOutput("ready", 10s));
  CHECK(p->err() == "ready\n");
  REQUIRE(p->Signal(SIGTERM).ok());
  ProcessResult r = p->Wait(10s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.term_signal == SIGTERM);
  CHECK(r.err == "ready\n");
}

TEST_CASE("WaitForOutput gives up when the child exits without printing it") {
  auto p = Subprocess::Start(kShell, {.args = {"-c", "echo something else"}});
  REQUIRE(p.ok());
  CHECK_FALSE(p->WaitForOutput("never printed", 10s));
  CHECK(p->out() == "something else\n");
  CHECK(p->Wait(10s).exit_code == 0);
}

TEST_CASE("BuildPath follows DYNOHERD_BUILD_DIR") {
  const char* old = std::getenv("DYNOHERD_BUILD_DIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("DYNOHERD_BUILD_DIR", "/some/build", 1);
  CHECK(BuildPath("fake-heroku") == "/some/build/fake-heroku");
  CHECK(DynoherdBinary() == "/some/build/dynoherd");
  if (old != nullptr) {
    setenv("DYNOHERD_BUILD_DIR", saved.c_str(), 1);
  } else {
    unsetenv("DYNOHERD_BUILD_DIR");
  }
}

TEST_CASE("RunDynoherd runs the binary under DYNOHERD_BUILD_DIR with the arguments given") {
  TempDir dir;
  const std::string fake = dir.Write("dynoherd", "#!/bin/sh\necho \"args: $*\"; cat; exit 3\n");
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const char* old = std::getenv("DYNOHERD_BUILD_DIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("DYNOHERD_BUILD_DIR", dir.path().c_str(), 1);
  ProcessResult r = RunDynoherd({"plan", "-f", "x.yaml"}, {.stdin_data = "from stdin"});
  if (old != nullptr) {
    setenv("DYNOHERD_BUILD_DIR", saved.c_str(), 1);
  } else {
    unsetenv("DYNOHERD_BUILD_DIR");
  }
  CHECK(r.exit_code == 3);
  CHECK(r.out == "args: plan -f x.yaml\nfrom stdin");
}

TEST_CASE("ReadFile returns the bytes written, and nothing for a missing file") {
  TempDir dir;
  const std::string bytes("a\0b\r\nc", 6);
  CHECK(ReadFile(dir.Write("f.bin", bytes)) == bytes);
  CHECK(ReadFile(dir.path() / "missing").empty());
}

}  // namespace
}  // namespace dynoherd::testing
