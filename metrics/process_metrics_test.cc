#include "metrics/process_metrics.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include "tests/support/temp_dir.h"

namespace dynoherd::metrics {
namespace {

using testing::TempDir;

std::map<std::string, double> Values(const ProcessMetrics& metrics) {
  std::map<std::string, double> values;
  for (const auto& family : metrics.Collect()) {
    REQUIRE(family.metric.size() == 1);
    const bool counter = family.type == prometheus::MetricType::Counter;
    CHECK(counter == (family.name == "process_cpu_seconds_total"));
    values[family.name] = counter ? family.metric[0].counter.value : family.metric[0].gauge.value;
  }
  return values;
}

TEST_CASE("process metrics read from a /proc of known contents") {
  TempDir proc;
  // A command with a space and a parenthesis, as proc(5) allows.
  proc.Write("self/stat",
             "4242 (dyno herd) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
             "250 150 0 0 20 0 5 0 1000 104857600 2560 18446744073709551615\n");
  proc.Write("stat", "cpu  1 2 3 4\nbtime 1700000000\nprocesses 99\n");
  proc.Write("self/limits",
             "Limit                     Soft Limit           Hard Limit           Units\n"
             "Max open files            1024                 4096                 files\n");
  for (const char* fd : {"0", "1", "2", "7"})
    proc.Write(std::string("self/fd/") + fd, "");
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  std::map<std::string, double> v = Values(ProcessMetrics(proc.path().string()));
  CHECK(v.size() == 6);
  CHECK(v["process_cpu_seconds_total"] == doctest::Approx(400 / tick));
  CHECK(v["process_virtual_memory_bytes"] == 104857600);
  CHECK(v["process_resident_memory_bytes"] == 2560 * page);
  CHECK(v["process_open_fds"] == 4);
  CHECK(v["process_max_fds"] == 1024);
  CHECK(v["process_start_time_seconds"] == doctest::Approx(1700000000 + 1000 / tick));
}

TEST_CASE("what /proc cannot tell is left out, never made up") {
  TempDir proc;
  proc.Write("self/stat", "4242 (truncated\n");
  proc.Write("self/limits", "Max open files            unlimited            unlimited  files\n");
  CHECK(Values(ProcessMetrics(proc.path().string())).empty());
}

TEST_CASE("this process, from the real /proc") {
  std::map<std::string, double> v = Values(ProcessMetrics());
  REQUIRE(v.size() == 6);
  CHECK(v["process_resident_memory_bytes"] > 0);
  CHECK(v["process_virtual_memory_bytes"] >= v["process_resident_memory_bytes"]);
  CHECK(v["process_open_fds"] >= 3);
  CHECK(v["process_max_fds"] >= v["process_open_fds"]);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(v["process_start_time_seconds"] <= now + 1);
  CHECK(v["process_start_time_seconds"] > now - 24 * 3600);
  CHECK(ProcessMetrics().Serialize().find("# TYPE process_cpu_seconds_total counter\n") !=
        std::string::npos);
}

}  // namespace
}  // namespace dynoherd::metrics
