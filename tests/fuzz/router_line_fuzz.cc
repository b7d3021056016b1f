// libFuzzer target for the router line parser (tools/fuzz.sh): never crashes, never reads outside
// the line, and the vectorised message parser agrees with the scalar reference on every input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "latency/byte_classes.h"
#include "latency/dyno_names.h"
#include "latency/router_line.h"

namespace {

using dynoherd::latency::LineKind;
using dynoherd::latency::RouterLine;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// What must agree between two parses; fields read before a problem may differ, so a malformed
// line compares only its verdict and reason.
std::string Summary(LineKind kind, const RouterLine& line) {
  if (kind != LineKind::kRouter) {
    return std::to_string(static_cast<int>(kind)) + "|" + std::string(line.problem);
  }
  return std::string(line.dyno) + "|" + std::string(line.code) + "|" + (line.at_error ? "E" : "-") +
         "|" + (line.service_ms ? std::to_string(*line.service_ms) : "none") + "|" +
         (line.connect_ms ? std::to_string(*line.connect_ms) : "none") + "|" +
         std::to_string(line.status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Through a copy of exactly `size` bytes, so any over-read hits the sanitizer's redzone.
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string_view text = input;

  RouterLine line;
  const LineKind kind = dynoherd::latency::ParseRouterLogLine(text, line);
  if (kind == LineKind::kMalformed) Require(!line.problem.empty());
  if (kind == LineKind::kRouter) {
    Require(Inside(line.dyno, text) && Inside(line.code, text));
    Require(line.dyno.empty() || dynoherd::latency::IsValidDynoName(line.dyno));
    Require(line.status >= 0 && line.status <= 999);
    Require(!line.service_ms || *line.service_ms >= 0);
  }

  // A stream parser (with its timestamp cache warm from the same line) gives the same answer.
  dynoherd::latency::RouterLineParser parser;
  RouterLine first, second;
  const LineKind first_kind = parser.ParseLine(text, first);
  const LineKind second_kind = parser.ParseLine(text, second);
  Require(Summary(first_kind, first) == Summary(kind, line));
  Require(Summary(second_kind, second) == Summary(kind, line));
  Require(first.timestamp == line.timestamp && second.timestamp == line.timestamp);

  // The message parsers agree with each other on the raw bytes.
  RouterLine scalar;
  const std::string expected =
      Summary(dynoherd::latency::detail::ParseRouterMessageScalar(text, scalar), scalar);
  for (dynoherd::latency::detail::Isa isa : dynoherd::latency::detail::SupportedIsas()) {
    RouterLine vectorised;
    const LineKind vectorised_kind =
        dynoherd::latency::detail::ParseRouterMessageWith(isa, text, vectorised);
    Require(Summary(vectorised_kind, vectorised) == expected);
    Require(Inside(vectorised.dyno, text) && Inside(vectorised.code, text));
  }
  return 0;
}
