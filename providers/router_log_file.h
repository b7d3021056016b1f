// Router logs from a file or standard input (`dynoherd analyze`): `heroku logs` lines or logplex
// frames, streamed into a LatencyWindow whatever their size.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "common/time.h"
#include "latency/ingest.h"
#include "latency/latency_window.h"

namespace dynoherd::providers {

// What one read gave: the parser's counts, the format found and the time span of the lines.
struct RouterLogRead {
  latency::IngestCounts counts;
  latency::InputFormat format = latency::InputFormat::kAuto;
  std::optional<TimePoint> first_timestamp;
  std::optional<TimePoint> last_timestamp;
  TimePoint now{};  // the newest timestamp: the end of the window
};

// Streams the file at `path` ("-": standard input) into `window`, which then ends at the newest
// timestamp read; a line without a timestamp counts as arriving with the newest one so far.
// Errors: "cannot open PATH: ...", "PATH: read failed: ..." ("standard input: ..." for "-").
Result<RouterLogRead> ReadRouterLog(const std::string& path, latency::InputFormat format,
                                    latency::LatencyWindow& window);

}  // namespace dynoherd::providers
