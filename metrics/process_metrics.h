// The process_* metrics every Prometheus client library exports (prometheus-cpp has no process
// collector): CPU time, memory, file descriptors and the start time, read from /proc at each
// scrape with the standard names and types. Linux only: a value /proc cannot give is left out.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace dynoherd::metrics {

class ProcessMetrics {
 public:
  // `proc_root`: where procfs is mounted; tests point it at a directory of their own.
  explicit ProcessMetrics(std::string proc_root = "/proc");

  std::vector<prometheus::MetricFamily> Collect() const;
  // The text exposition of Collect(), to append to the other metrics' (distinct families).
  std::string Serialize() const;

 private:
  std::string proc_root_;
};

}  // namespace dynoherd::metrics
