#include "latency/router_line.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string>

#include "latency/byte_classes.h"

using namespace dynoherd;
using namespace dynoherd::latency;

namespace {

RouterLine Parse(std::string_view line, LineKind expected) {
  RouterLine out;
  LineKind kind = ParseRouterLogLine(line, out);
  CHECK(kind == expected);
  return out;
}

}  // namespace

TEST_CASE("a current router line as heroku logs prints it") {
  RouterLine line = Parse(
      "2026-11-22T13:00:00.123456+00:00 heroku[router]: at=info method=GET path=\"/items\" "
      "host=shop.herokuapp.com request_id=0d2c8f5e-1b1a-4c7e-9a51-3f2a1c9b7e10 "
      "fwd=\"203.0.113.9\" dyno=web.3 connect=0ms service=123ms status=200 bytes=975 "
      "protocol=https",
      LineKind::kRouter);
  REQUIRE(line.timestamp);
  CHECK(FormatTimestamp(*line.timestamp) == "2026-11-22T13:00:00.123Z");
  CHECK_FALSE(line.at_error);
  CHECK(line.code.empty());
  CHECK(line.dyno == "web.3");
  CHECK(line.connect_ms == 0.0);
  CHECK(line.service_ms == 123.0);
  CHECK(line.status == 200);
}

TEST_CASE("Heroku's documented error examples") {
  SUBCASE("H10 app crashed: empty dyno, connect and service") {
    RouterLine line = Parse(
        "2010-10-06T21:51:12-07:00 heroku[router]: at=error code=H10 desc=\"App crashed\" "
        "method=GET path=\"/\" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= "
        "status=503 bytes=",
        LineKind::kRouter);
    CHECK(line.at_error);
    CHECK(line.code == "H10");
    CHECK(line.dyno.empty());
    CHECK_FALSE(line.connect_ms);
    CHECK_FALSE(line.service_ms);
    CHECK(line.status == 503);
    // -07:00 is honoured: 21:51:12 in UTC-7 is 04:51:12 UTC the next day.
    CHECK(FormatTimestamp(*line.timestamp) == "2010-10-07T04:51:12.000Z");
  }
  SUBCASE("H10 with an unquoted path (older documentation)") {
    RouterLine line = Parse(
        "2010-10-06T21:51:12-07:00 heroku[router]: at=error code=H10 desc=\"App crashed\" "
        "method=GET path=/ host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= "
        "status=503 bytes=",
        LineKind::kRouter);
    CHECK(line.code == "H10");
    CHECK(line.status == 503);
  }
  SUBCASE("H11 backlog too deep") {
    RouterLine line = Parse(
        "2010-10-06T21:51:07-07:00 heroku[router]: at=error code=H11 desc=\"Backlog too deep\" "
        "method=GET path=\"/\" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= "
        "status=503 bytes=",
        LineKind::kRouter);
    CHECK(line.code == "H11");
    CHECK(line.dyno.empty());
  }
  SUBCASE("H12 request timeout") {
    RouterLine line = Parse(
        "2010-10-06T21:51:37-07:00 heroku[router]: at=error code=H12 desc=\"Request timeout\" "
        "method=GET path=\"/\" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=6ms "
        "service=30001ms status=503 bytes=0",
        LineKind::kRouter);
    CHECK(line.at_error);
    CHECK(line.code == "H12");
    CHECK(line.dyno == "web.1");
    CHECK(line.connect_ms == 6.0);
    CHECK(line.service_ms == 30001.0);
  }
  SUBCASE("H13 connection closed without response") {
    RouterLine line = Parse(
        "2010-10-06T21:51:37-07:00 heroku[router]: at=error code=H13 desc=\"Connection closed "
        "without response\" method=GET path=\"/\" host=myapp.herokuapp.com fwd=17.17.17.17 "
        "dyno=web.1 connect=3030ms service=9767ms status=503 bytes=0",
        LineKind::kRouter);
    CHECK(line.code == "H13");
    CHECK(line.service_ms == 9767.0);
  }
  SUBCASE("H18 with a leading sock= key") {
    RouterLine line = Parse(
        "2013-04-17T19:04:52+00:00 heroku[router]: sock=backend at=error code=H18 "
        "desc=\"Server Request Interrupted\" method=GET path=\"/\" host=myapp.herokuapp.com "
        "fwd=17.17.17.17 dyno=web.1 connect=1ms service=4ms status=503 bytes=",
        LineKind::kRouter);
    CHECK(line.code == "H18");
    CHECK(line.at_error);
  }
  SUBCASE("H19 backend connection timeout: connect but no service") {
    RouterLine line = Parse(
        "2010-10-06T21:51:07-07:00 heroku[router]: at=error code=H19 desc=\"Backend connection "
        "timeout\" method=GET path=\"/\" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 "
        "connect=5001ms service= status=503 bytes=",
        LineKind::kRouter);
    CHECK(line.code == "H19");
    CHECK(line.connect_ms == 5001.0);
    CHECK_FALSE(line.service_ms);
  }
  SUBCASE("H20 app boot timeout") {
    RouterLine line = Parse(
        "2010-10-06T21:51:07-07:00 heroku[router]: at=error code=H20 desc=\"App boot timeout\" "
        "method=GET path=\"/\" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= "
        "status=503 bytes=",
        LineKind::kRouter);
    CHECK(line.code == "H20");
  }
  SUBCASE("H27 is a client-side warning, not a router error") {
    RouterLine line = Parse(
        "2014-03-20T14:22:00.203382+00:00 heroku[router]: sock=client at=warning code=H27 "
        "desc=\"Client Request Interrupted\" method=POST path=\"/submit/\" "
        "host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=1ms service=0ms status=499 "
        "bytes=",
        LineKind::kRouter);
    CHECK(line.code == "H27");
    CHECK_FALSE(line.at_error);
    CHECK(line.service_ms == 0.0);
  }
}

TEST_CASE("lines that are not router lines are ignored, not malformed") {
  Parse("", LineKind::kIgnored);
  Parse("\r\n", LineKind::kIgnored);
  Parse("2010-10-06T21:51:07-07:00 app[web.2]: Rendering post/list dyno=web.9 service=1ms",
        LineKind::kIgnored);
  Parse("2010-10-06T21:51:04-07:00 heroku[web.1]: State changed from down to starting",
        LineKind::kIgnored);
  Parse(
      "2026-11-22T13:00:00+00:00 heroku[logplex]: Error L10 (output buffer overflow): 12 "
      "messages dropped since 2026-11-22T12:59:00+00:00.",
      LineKind::kIgnored);
  Parse("just some text", LineKind::kIgnored);
  Parse("12345", LineKind::kIgnored);
  Parse("<13>1 2026-11-22T13:00:00+00:00 host app web.1 - hello dyno=web.2 service=5ms",
        LineKind::kIgnored);
}

TEST_CASE("syslog lines and bare messages are router lines too") {
  RouterLine syslog = Parse(
      "<158>1 2012-11-30T06:45:29+00:00 host heroku router - at=info method=GET path=\"/\" "
      "host=a.herokuapp.com dyno=web.2 connect=1ms service=17ms status=200 bytes=10\n",
      LineKind::kRouter);
  CHECK(syslog.dyno == "web.2");
  CHECK(syslog.service_ms == 17.0);
  CHECK(FormatTimestamp(*syslog.timestamp) == "2012-11-30T06:45:29.000Z");

  RouterLine bare = Parse("at=info method=GET path=/ dyno=web.4 connect=0ms service=9ms status=204",
                          LineKind::kRouter);
  CHECK_FALSE(bare.timestamp);
  CHECK(bare.dyno == "web.4");
  CHECK(bare.status == 204);
}

TEST_CASE("a dyno= inside a quoted value never counts") {
  RouterLine line = Parse(
      "2026-11-22T13:00:00Z heroku[router]: at=info method=GET "
      "path=\"/search?q=a dyno=web.9 service=1ms\" host=x fwd=\"1.2.3.4 dyno=web.8\" "
      "desc=\"say \\\"dyno=web.7 service=2ms\\\" loudly\" dyno=web.1 connect=1ms service=250ms "
      "status=200",
      LineKind::kRouter);
  CHECK(line.dyno == "web.1");
  CHECK(line.service_ms == 250.0);
}

TEST_CASE("an unquoted path may contain '=' and keys without being taken for them") {
  RouterLine line = Parse(
      "2026-11-22T13:00:00Z heroku[router]: at=info method=GET path=/x?dyno=web.9&service=1ms "
      "host=x dyno=web.2 connect=1ms service=40ms status=200",
      LineKind::kRouter);
  CHECK(line.dyno == "web.2");
  CHECK(line.service_ms == 40.0);
}

TEST_CASE("the first occurrence of a key wins, unknown keys and bare words are skipped") {
  RouterLine line = Parse(
      "2026-11-22T13:00:00Z heroku[router]: at=info newkey=\"a b\" stray-word tls=1.3 "
      "dyno=web.5 dyno=web.6 connect=2ms service=3ms status=201 service=999ms",
      LineKind::kRouter);
  CHECK(line.dyno == "web.5");
  CHECK(line.service_ms == 3.0);
  CHECK(line.status == 201);
}

TEST_CASE("Fir dyno names, fractional and second units") {
  RouterLine line = Parse(
      "2026-11-22T13:00:00Z heroku[router]: at=info dyno=web-1234abcde-123ab connect=0.5ms "
      "service=1.25s status=200",
      LineKind::kRouter);
  CHECK(line.dyno == "web-1234abcde-123ab");
  CHECK(line.connect_ms == 0.5);
  CHECK(line.service_ms == 1250.0);
}

TEST_CASE("malformed router lines say what is wrong") {
  auto problem = [](std::string_view text) {
    RouterLine out;
    CHECK(ParseRouterLogLine(text, out) == LineKind::kMalformed);
    return std::string(out.problem);
  };
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=info path=\"/never closed dyno=web.1") ==
        "unterminated quoted value");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=info dyno=web.1 service=fast") ==
        "invalid service time");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=info dyno=web.1 service=-5ms") ==
        "invalid service time");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=info dyno=web.1 connect=5us") ==
        "invalid connect time");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=info dyno=web.1 status=2000") ==
        "invalid status");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=info dyno=web;rm service=1ms") ==
        "invalid dyno name");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: at=error code=H1234567890") ==
        "invalid error code");
  CHECK(problem("2026-13-22T13:00:00Z heroku[router]: at=info dyno=web.1") == "invalid timestamp");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: hello world") == "no router fields");
  // Years whose nanoseconds would overflow a TimePoint (found by the fuzzer).
  CHECK(problem("0112-11-30T06:45:29+00:00 heroku[router]: at=info dyno=web.1") ==
        "invalid timestamp");
  CHECK(problem("9999-11-30T06:45:29+0000 heroku[router]: at=info dyno=web.1") ==
        "invalid timestamp");
  CHECK(problem("2026-11-22T13:00:00Z heroku[router]: ") == "no router fields");
  std::string long_dyno =
      "2026-11-22T13:00:00Z heroku[router]: at=info dyno=" + std::string(65, 'a') + " service=1ms";
  CHECK(problem(long_dyno) == "invalid dyno name");
}

TEST_CASE("ParseMillis") {
  std::optional<double> ms;
  CHECK(ParseMillis("", ms));
  CHECK_FALSE(ms);
  CHECK(ParseMillis("0ms", ms));
  CHECK(ms == 0.0);
  CHECK(ParseMillis("42", ms));
  CHECK(ms == 42.0);
  CHECK(ParseMillis("2s", ms));
  CHECK(ms == 2000.0);
  CHECK(ParseMillis("999999999999999ms", ms));
  CHECK_FALSE(ParseMillis("9999999999999999ms", ms));  // 16 digits
  CHECK_FALSE(ParseMillis("1.ms", ms));
  CHECK_FALSE(ParseMillis(".5ms", ms));
  CHECK_FALSE(ParseMillis("5 ms", ms));
  CHECK_FALSE(ParseMillis("5msx", ms));
}

TEST_CASE("a 100 KB line and binary garbage are handled without harm") {
  std::string huge = "2026-11-22T13:00:00Z heroku[router]: at=info path=\"" +
                     std::string(100 * 1024, 'x') + "\" dyno=web.1 service=7ms status=200";
  RouterLine line = Parse(huge, LineKind::kRouter);
  CHECK(line.dyno == "web.1");
  CHECK(line.service_ms == 7.0);

  std::mt19937_64 rng(7);
  int routers = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string garbage = "2026-11-22T13:00:00Z heroku[router]: ";
    const size_t size = rng() % 300;
    for (size_t k = 0; k < size; ++k)
      garbage.push_back(static_cast<char>(rng() & 0xff));
    RouterLine out;
    LineKind kind = ParseRouterLogLine(garbage, out);
    if (kind == LineKind::kRouter) {
      ++routers;
      // Whatever was read lies inside the input.
      if (!out.dyno.empty()) {
        CHECK(out.dyno.data() >= garbage.data());
        CHECK(out.dyno.data() + out.dyno.size() <= garbage.data() + garbage.size());
      }
    } else if (kind == LineKind::kMalformed) {
      CHECK_FALSE(out.problem.empty());
    }
  }
  // Random bytes almost never form "at=", "dyno=" or "service=" keys.
  CHECK(routers < 20);
}

namespace {

std::string Describe(LineKind kind, const RouterLine& line) {
  std::string out = std::to_string(static_cast<int>(kind)) + "|" + std::string(line.problem) + "|" +
                    (line.at_error ? "E" : "-") + "|" + std::string(line.code) + "|" +
                    std::string(line.dyno) + "|" +
                    (line.connect_ms ? std::to_string(*line.connect_ms) : "none") + "|" +
                    (line.service_ms ? std::to_string(*line.service_ms) : "none") + "|" +
                    std::to_string(line.status);
  if (kind != LineKind::kRouter) {
    // Once malformed, which fields were read before the problem depends on how far each parser
    // got; only the verdict and its reason must agree.
    out = std::to_string(static_cast<int>(kind)) + "|" + std::string(line.problem);
  }
  return out;
}

// Random messages built from the pieces that matter: keys of ours and others, quotes, escapes,
// spaces, '=' and values, so the parsers' edge cases come up often.
std::string RandomMessage(std::mt19937_64& rng) {
  static const char* const kPieces[] = {
      "at=",
      "at=error",
      "at=info",
      " ",
      "  ",
      "dyno=",
      "dyno=web.1",
      "code=H12",
      "connect=",
      "connect=1ms",
      "service=",
      "service=12ms",
      "service=1.5s",
      "status=",
      "status=503",
      "\"",
      "\\\"",
      "\\\\",
      "=",
      "path=\"/a b\"",
      "path=/x?dyno=web.9",
      "desc=\"",
      "xdyno=web.2",
      "fwd=\"1.2.3.4\"",
      "host=a.b",
      "bytes=12",
      "web.3",
      "12ms",
      "\t",
      "a",
      "dyno=\"web.4\"",
      "status=\"200\"",
      "\"dyno=web.5\"",
      "service=x",
  };
  std::string message;
  const size_t pieces = rng() % 24;
  for (size_t i = 0; i < pieces; ++i) {
    if (rng() % 8 == 0) {
      message.push_back(static_cast<char>(rng() & 0xff));
    } else {
      message += kPieces[rng() % std::size(kPieces)];
    }
    if (rng() % 10 < 7) message.push_back(' ');
  }
  return message;
}

}  // namespace

TEST_CASE("the vectorised parser agrees with the scalar one, with every instruction set") {
  std::mt19937_64 rng(2024);
  std::vector<std::string> messages;
  for (int i = 0; i < 20000; ++i)
    messages.push_back(RandomMessage(rng));
  // Long messages cross the 64-byte blocks and the 512-byte segments.
  for (int i = 0; i < 300; ++i) {
    std::string long_message;
    while (long_message.size() < 200 + rng() % 1500)
      long_message += RandomMessage(rng) + " ";
    messages.push_back(long_message);
  }
  messages.push_back(std::string(700, ' ') + "dyno=web.1 at=info service=5ms");
  messages.push_back("path=\"" + std::string(600, 'x') + " dyno=web.9\" dyno=web.1 at=info");
  int routers = 0, malformed = 0, with_dyno = 0;
  for (const std::string& message : messages) {
    RouterLine scalar_line;
    const LineKind scalar_kind = detail::ParseRouterMessageScalar(message, scalar_line);
    routers += scalar_kind == LineKind::kRouter;
    malformed += scalar_kind == LineKind::kMalformed;
    with_dyno += !scalar_line.dyno.empty();
    const std::string expected = Describe(scalar_kind, scalar_line);
    for (detail::Isa isa : detail::SupportedIsas()) {
      RouterLine line;
      const LineKind kind = detail::ParseRouterMessageWith(isa, message, line);
      CAPTURE(message);
      CAPTURE(static_cast<int>(isa));
      REQUIRE(Describe(kind, line) == expected);
    }
  }
  // The inputs reach every outcome often, so the agreement means something.
  CHECK(routers > 3000);
  CHECK(malformed > 3000);
  CHECK(with_dyno > 1000);
}

TEST_CASE("a stream parser's cached timestamps equal the general parser's") {
  std::mt19937_64 rng(77);
  RouterLineParser parser;
  const char* const zones[] = {"Z", "+00:00", "-07:00", "+05:30", "z", "+0000", "", "+00:0"};
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    char stamp[64];
    const int day = 1 + static_cast<int>(rng() % 31);
    const int month = 1 + static_cast<int>(rng() % 13);  // 13: invalid on purpose
    std::snprintf(stamp, sizeof stamp, "20%02d-%02d-%02dT%02d:%02d:%02d",
                  static_cast<int>(rng() % 40), month, day, static_cast<int>(rng() % 25),
                  static_cast<int>(rng() % 60), static_cast<int>(rng() % 61));
    std::string text = stamp;
    if (rng() % 4 != 0) {
      text += '.';
      text += std::to_string(rng() % 1000000000).substr(0, 1 + rng() % 9);
      if (rng() % 10 == 0) text += "123";  // beyond nanoseconds
    }
    text += zones[rng() % std::size(zones)];
    // Runs of the same second exercise the cache; changes of zone must not reuse it.
    for (int repeat = 0; repeat < 1 + static_cast<int>(rng() % 3); ++repeat) {
      RouterLine out;
      const LineKind kind = parser.ParseLine(text + " heroku[router]: at=info dyno=web.1", out);
      const std::optional<TimePoint> expected = ParseTimestamp(text);
      CAPTURE(text);
      if (expected) {
        REQUIRE(kind == LineKind::kRouter);
        REQUIRE(out.timestamp == expected);
        ++checked;
      } else {
        REQUIRE(kind == LineKind::kMalformed);
        REQUIRE(out.problem == "invalid timestamp");
      }
    }
  }
  CHECK(checked > 10000);
}
