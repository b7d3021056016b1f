// Parser-only throughput: the file is read into memory once, then streamed through
// RouterLogStream and a LatencyWindow several times. CPU time per line, without the kernel's
// copy or other processes' noise; for profiling changes to the hot path (bench/run.sh measures
// the whole process).
//
//   parse_bench FILE [REPEATS]
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "latency/ingest.h"
#include "latency/latency_window.h"

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: parse_bench FILE [REPEATS]\n";
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::cerr << "parse_bench: cannot open " << argv[1] << "\n";
    return 1;
  }
  std::stringstream contents;
  contents << file.rdbuf();
  const std::string data = contents.str();
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 5;
  constexpr size_t kChunk = 256 * 1024;
  double best = 1e9;
  int64_t lines = 0;
  for (int r = 0; r < repeats; ++r) {
    auto window = dynoherd::latency::LatencyWindow::Create({.window = dynoherd::Duration::zero()});
    dynoherd::latency::RouterLogStream stream;
    const double start = CpuSeconds();
    for (size_t at = 0; at < data.size(); at += kChunk) {
      for (const auto& line : stream.Feed(std::string_view(data).substr(at, kChunk))) {
        window->Add(line, dynoherd::TimePoint{});
      }
    }
    for (const auto& line : stream.Finish())
      window->Add(line, dynoherd::TimePoint{});
    best = std::min(best, CpuSeconds() - start);
    lines = stream.counts().lines;
  }
  std::cout << lines << " lines, best of " << repeats << ": " << best * 1e3 << " ms CPU, "
            << best * 1e9 / static_cast<double>(lines) << " ns/line, "
            << static_cast<double>(lines) / best / 1e6 << " M lines/s\n";
  return 0;
}
