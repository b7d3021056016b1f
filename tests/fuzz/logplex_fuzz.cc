// libFuzzer target for logplex framing and stream splitting (tools/fuzz.sh): frames and problems
// stay inside the body, and a stream cut anywhere reads what the whole body reads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "latency/ingest.h"
#include "latency/logplex.h"

namespace {

using namespace dynoherd::latency;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

struct Outcome {
  std::vector<std::string> lines;
  IngestCounts counts;
};

Outcome Stream(std::string_view input, InputFormat format, const std::vector<size_t>& cuts) {
  RouterLogStream stream({.format = format, .max_line_bytes = 512});
  Outcome out;
  auto take = [&](std::span<const RouterLine> lines) {
    for (const RouterLine& line : lines) {
      out.lines.push_back(std::string(line.dyno) + "|" +
                          (line.service_ms ? std::to_string(*line.service_ms) : "none"));
    }
  };
  size_t start = 0;
  for (size_t cut : cuts) {
    // Each chunk in its own buffer, destroyed after use: the stream must keep no pointer to it.
    std::string chunk(input.substr(start, cut - start));
    take(stream.Feed(chunk));
    start = cut;
  }
  std::string last(input.substr(start));
  take(stream.Feed(last));
  take(stream.Finish());
  out.counts = stream.counts();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string_view body = input;

  LogplexBody parsed = ParseLogplexBody(body, 512);
  size_t previous = 0;
  for (const LogplexFrame& frame : parsed.frames) {
    Require(frame.offset < body.size() && (frame.offset >= previous || previous == 0));
    previous = frame.offset;
    Require(Inside(frame.message.message, body) && Inside(frame.message.app_name, body) &&
            Inside(frame.message.timestamp, body));
  }
  for (const FramingProblem& problem : parsed.problems)
    Require(problem.offset < body.size());

  DrainBatch batch = ReadDrainBody(body, 512);
  Require(batch.counts.lines == static_cast<int64_t>(parsed.frames.size()));
  Require(batch.problems.size() == parsed.problems.size());
  Require(batch.counts.router + batch.counts.ignored + batch.counts.malformed ==
          batch.counts.lines);

  // Cut points from the input's own bytes: the same input is then also tested whole.
  std::vector<size_t> cuts;
  for (size_t i = 0; i < size && cuts.size() < 4; i += 1 + data[i] % 61)
    cuts.push_back(i);
  for (InputFormat format : {InputFormat::kLogplex, InputFormat::kLines, InputFormat::kAuto}) {
    const Outcome whole = Stream(body, format, {});
    const Outcome cut = Stream(body, format, cuts);
    Require(whole.lines == cut.lines);
    Require(whole.counts.lines == cut.counts.lines && whole.counts.router == cut.counts.router &&
            whole.counts.ignored == cut.counts.ignored &&
            whole.counts.malformed == cut.counts.malformed &&
            whole.counts.framing_problems == cut.counts.framing_problems);
    if (format == InputFormat::kLogplex) {
      // A stream reads the frames a whole body does (and the same problems).
      Require(whole.counts.lines == static_cast<int64_t>(parsed.frames.size()));
      Require(whole.counts.framing_problems == static_cast<int64_t>(parsed.problems.size()));
    }
  }
  return 0;
}
