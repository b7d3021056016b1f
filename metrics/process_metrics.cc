#include "metrics/process_metrics.h"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace dynoherd::metrics {
namespace {

// The fields of /proc/<pid>/stat this needs (proc(5)).
struct ProcStat {
  double user_ticks = 0, system_ticks = 0, start_ticks = 0;  // fields 14, 15, 22
  double virtual_bytes = 0, resident_pages = 0;              // fields 23, 24
};

std::optional<double> Number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<ProcStat> ParseStat(const std::string& text) {
  // Field 2, the command, is in parentheses and may itself hold spaces and parentheses.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields = {"pid", "comm"};  // numbered from 1 as in proc(5)
  for (std::string field; rest >> field;)
    fields.push_back(field);
  if (fields.size() < 24) return std::nullopt;
  // fields[i] is field i + 1.
  const auto user = Number(fields[13]), system = Number(fields[14]), start = Number(fields[21]),
             virtual_bytes = Number(fields[22]), resident = Number(fields[23]);
  if (!user || !system || !start || !virtual_bytes || !resident) return std::nullopt;
  return ProcStat{*user, *system, *start, *virtual_bytes, *resident};
}

// "btime N" of /proc/stat: when the system booted, in seconds since the epoch.
std::optional<double> BootTime(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("btime ", 0) == 0) return Number(line.substr(6));
  }
  return std::nullopt;
}

// The soft limit of "Max open files" in /proc/<pid>/limits; nullopt when "unlimited".
std::optional<double> MaxOpenFiles(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream values(line.substr(sizeof("Max open files") - 1));
    std::string soft;
    values >> soft;
    return Number(soft);  // nullopt for "unlimited"
  }
  return std::nullopt;
}

std::optional<double> OpenFds(const std::string& directory) {
  std::error_code ec;
  double count = 0;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    ++count;
  }
  if (ec) return std::nullopt;
  return count;
}

prometheus::MetricFamily SingleValueFamily(std::string name, std::string help,
                                           prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {std::move(name), std::move(help), type, {metric}};
}

}  // namespace

ProcessMetrics::ProcessMetrics(std::string proc_root) : proc_root_(std::move(proc_root)) {}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_bytes = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::optional<std::string> stat_text = ReadText(proc_root_ + "/self/stat");
  std::optional<ProcStat> stat = stat_text ? ParseStat(*stat_text) : std::nullopt;
  if (stat) {
    families.push_back(SingleValueFamily(
        "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
        MetricType::Counter, (stat->user_ticks + stat->system_ticks) / ticks_per_second));
  }
  if (std::optional<double> fds = OpenFds(proc_root_ + "/self/fd")) {
    families.push_back(SingleValueFamily("process_open_fds", "Number of open file descriptors.",
                                         MetricType::Gauge, *fds));
  }
  std::optional<std::string> limits = ReadText(proc_root_ + "/self/limits");
  if (std::optional<double> max = limits ? MaxOpenFiles(*limits) : std::nullopt) {
    families.push_back(SingleValueFamily(
        "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, *max));
  }
  if (stat) {
    families.push_back(SingleValueFamily("process_virtual_memory_bytes",
                                         "Virtual memory size in bytes.", MetricType::Gauge,
                                         stat->virtual_bytes));
    families.push_back(SingleValueFamily("process_resident_memory_bytes",
                                         "Resident memory size in bytes.", MetricType::Gauge,
                                         stat->resident_pages * page_bytes));
  }
  std::optional<std::string> system_stat = ReadText(proc_root_ + "/stat");
  std::optional<double> boot = system_stat ? BootTime(*system_stat) : std::nullopt;
  if (stat && boot) {
    families.push_back(SingleValueFamily(
        "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        MetricType::Gauge, *boot + stat->start_ticks / ticks_per_second));
  }
  return families;
}

std::string ProcessMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace dynoherd::metrics
