#include "latency/ingest.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace dynoherd;
using namespace dynoherd::latency;

namespace {

std::string RouterLineText(int i) {
  return "2026-11-22T13:00:0" + std::to_string(i % 10) +
         ".5+00:00 heroku[router]: at=info method=GET path=\"/p" + std::to_string(i) +
         "\" host=x dyno=web." + std::to_string(i % 3 + 1) +
         " connect=1ms service=" + std::to_string(10 + i) + "ms status=200 bytes=5";
}

std::string Frame(const std::string& message) {
  return std::to_string(message.size()) + " " + message;
}

std::string RouterFrame(int i) {
  return Frame("<158>1 2026-11-22T13:00:00+00:00 host heroku router - at=info dyno=web." +
               std::to_string(i % 3 + 1) + " connect=1ms service=" + std::to_string(10 + i) +
               "ms status=200\n");
}

// What the stream yields, flattened to comparable text, when `input` arrives in `chunks`.
struct Collected {
  std::vector<std::string> lines;
  IngestCounts counts;
  InputFormat format;
};

Collected Run(const std::string& input, const std::vector<size_t>& cuts,
              StreamOptions options = {}) {
  RouterLogStream stream(options);
  Collected out;
  auto take = [&](std::span<const RouterLine> lines) {
    for (const RouterLine& line : lines) {
      out.lines.push_back(std::string(line.dyno) + " " + std::to_string(*line.service_ms) + " " +
                          (line.timestamp ? FormatTimestamp(*line.timestamp) : "-"));
    }
  };
  size_t start = 0;
  for (size_t cut : cuts) {
    // Each chunk lives in its own buffer that dies right after use, as a read buffer would be
    // overwritten: the stream must not keep pointers into it.
    std::string chunk = input.substr(start, cut - start);
    take(stream.Feed(chunk));
    chunk.assign(chunk.size(), '#');
    start = cut;
  }
  std::string last = input.substr(start);
  take(stream.Feed(last));
  last.assign(last.size(), '#');
  take(stream.Finish());
  out.counts = stream.counts();
  out.format = stream.format();
  return out;
}

void CheckSame(const Collected& a, const Collected& b) {
  CHECK(a.lines == b.lines);
  CHECK(a.counts.lines == b.counts.lines);
  CHECK(a.counts.router == b.counts.router);
  CHECK(a.counts.ignored == b.counts.ignored);
  CHECK(a.counts.malformed == b.counts.malformed);
  CHECK(a.counts.framing_problems == b.counts.framing_problems);
}

}  // namespace

TEST_CASE("lines: every way of cutting the stream gives the same lines") {
  std::string input;
  for (int i = 0; i < 6; ++i)
    input += RouterLineText(i) + "\n";
  input += "2026-11-22T13:00:00Z app[web.1]: hello\r\n\n";
  input += "2026-11-22T13:00:00Z heroku[router]: at=info path=\"/broken dyno=web.1\n";
  input += RouterLineText(7);  // no final newline
  const Collected whole = Run(input, {});
  CHECK(whole.format == InputFormat::kLines);
  CHECK(whole.lines.size() == 7);
  CHECK(whole.counts.lines == 10);
  CHECK(whole.counts.router == 7);
  CHECK(whole.counts.ignored == 2);
  CHECK(whole.counts.malformed == 1);
  CHECK(whole.counts.first_problem == "line 9: unterminated quoted value");
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    CAPTURE(cut);
    CheckSame(Run(input, {cut}), whole);
  }
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < input.size(); at += rng() % 40)
      cuts.push_back(at);
    CheckSame(Run(input, cuts), whole);
  }
}

TEST_CASE("logplex: auto-detected, and every way of cutting gives the same frames") {
  std::string input;
  for (int i = 0; i < 5; ++i)
    input += RouterFrame(i);
  input += Frame("<40>1 2026-11-22T13:00:00+00:00 host app web.1 - hello\n");
  input += "junk that is no frame\n";
  input += RouterFrame(9);
  const Collected whole = Run(input, {});
  CHECK(whole.format == InputFormat::kLogplex);
  CHECK(whole.lines.size() == 6);
  CHECK(whole.counts.lines == 7);
  CHECK(whole.counts.ignored == 1);
  CHECK(whole.counts.framing_problems == 1);
  CHECK(whole.counts.first_problem.starts_with("byte "));
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    CAPTURE(cut);
    CheckSame(Run(input, {cut}), whole);
  }
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < input.size(); at += rng() % 50)
      cuts.push_back(at);
    CheckSame(Run(input, cuts), whole);
  }
}

TEST_CASE("a logplex stream cut short reports the truncated frame at its byte offset") {
  std::string first = RouterFrame(1);
  std::string input = first + RouterFrame(2);
  input.resize(input.size() - 5);
  Collected out = Run(input, {input.size() / 2});
  CHECK(out.lines.size() == 1);
  CHECK(out.counts.framing_problems == 1);
  CHECK(out.counts.first_problem ==
        "byte " + std::to_string(first.size()) + ": octet count runs past the end of the body");
}

TEST_CASE("lines over the limit are malformed, skipped, and never buffered whole") {
  const std::string good = RouterLineText(1) + "\n";
  const std::string huge = "2026-11-22T13:00:00Z heroku[router]: at=info path=\"" +
                           std::string(100 * 1024, 'x') + "\" dyno=web.1 service=7ms\n";
  const std::string input = good + huge + good;
  for (size_t chunk : {size_t{1000}, size_t{4096}, input.size()}) {
    CAPTURE(chunk);
    std::vector<size_t> cuts;
    for (size_t at = chunk; at < input.size(); at += chunk)
      cuts.push_back(at);
    Collected out = Run(input, cuts);
    CHECK(out.lines.size() == 2);
    CHECK(out.counts.malformed == 1);
    CHECK(out.counts.first_problem == "line 2: longer than 65536 bytes");
  }
  // A raised limit reads it.
  Collected raised = Run(input, {}, {.max_line_bytes = 200 * 1024});
  CHECK(raised.lines.size() == 3);
}

TEST_CASE("a stream without any newline stays bounded") {
  RouterLogStream stream({.max_line_bytes = 1024});
  std::string chunk(4096, 'a');
  for (int i = 0; i < 100; ++i)
    CHECK(stream.Feed(chunk).empty());
  CHECK(stream.Finish().empty());
  CHECK(stream.counts().malformed == 1);
  CHECK(stream.counts().lines == 1);
}

TEST_CASE("explicit formats and tiny first chunks") {
  Collected lines = Run(RouterLineText(1) + "\n", {1, 2, 3}, {.format = InputFormat::kLines});
  CHECK(lines.lines.size() == 1);
  // "12" could start a frame or a line: the decision waits for more bytes.
  std::string frames = RouterFrame(1) + RouterFrame(2);
  Collected split = Run(frames, {1, 2, 3});
  CHECK(split.format == InputFormat::kLogplex);
  CHECK(split.lines.size() == 2);
  Collected empty = Run("", {});
  CHECK(empty.lines.empty());
  CHECK(empty.counts.lines == 0);
  Collected blank = Run("\n\n\n", {});
  CHECK(blank.format == InputFormat::kLines);
  CHECK(blank.counts.ignored == 3);
}

TEST_CASE("ReadDrainBody: router lines, other frames and problems of one body") {
  const std::string body = RouterFrame(1) +
                           Frame("<40>1 2026-11-22T13:00:00+00:00 host app web.1 - hi\n") +
                           Frame(
                               "<158>1 2026-11-22T13:00:00+00:00 host heroku router - at=info "
                               "dyno=web.1 service=zz\n") +
                           "999 <1>1 cut";
  DrainBatch batch = ReadDrainBody(body);
  REQUIRE(batch.router_lines.size() == 1);
  CHECK(batch.router_lines[0].dyno == "web.2");
  CHECK(batch.router_lines[0].service_ms == 11.0);
  CHECK(batch.counts.lines == 3);
  CHECK(batch.counts.router == 1);
  CHECK(batch.counts.ignored == 1);
  CHECK(batch.counts.malformed == 1);
  CHECK(batch.counts.framing_problems == 1);
  REQUIRE(batch.problems.size() == 1);
  CHECK(batch.problems[0].error == FrameError::kTruncated);
  CHECK(batch.counts.first_problem.find("invalid service time") != std::string::npos);
}
