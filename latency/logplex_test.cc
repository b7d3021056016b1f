#include "latency/logplex.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

using namespace dynoherd::latency;

namespace {

std::string Frame(const std::string& message) {
  return std::to_string(message.size()) + " " + message;
}

std::string RouterMessage(const std::string& dyno, int service_ms) {
  return "<158>1 2026-11-22T13:00:00.123456+00:00 host heroku router - at=info method=GET "
         "path=\"/\" host=shop.herokuapp.com dyno=" +
         dyno + " connect=1ms service=" + std::to_string(service_ms) + "ms status=200 bytes=9\n";
}

}  // namespace

TEST_CASE("Heroku's documented drain body") {
  const std::string body =
      "83 <40>1 2012-11-30T06:45:29+00:00 host app web.3 - State changed from starting to up\n"
      "119 <40>1 2012-11-30T06:45:26+00:00 host app web.3 - Starting process with command "
      "`bundle exec rackup config.ru -p 24405`\n";
  LogplexBody parsed = ParseLogplexBody(body);
  CHECK(parsed.problems.empty());
  REQUIRE(parsed.frames.size() == 2);
  const SyslogMessage& first = parsed.frames[0].message;
  CHECK(first.priority == 40);
  CHECK(first.timestamp == "2012-11-30T06:45:29+00:00");
  CHECK(first.hostname == "host");
  CHECK(first.app_name == "app");
  CHECK(first.proc_id == "web.3");
  CHECK(first.message == "State changed from starting to up");
  CHECK_FALSE(IsRouterMessage(first));
  CHECK(parsed.frames[1].offset == 86);
  CHECK(parsed.frames[1].message.message ==
        "Starting process with command `bundle exec rackup config.ru -p 24405`");
}

TEST_CASE("router frames are recognised and keep their message") {
  const std::string body = Frame(RouterMessage("web.1", 12)) + Frame(RouterMessage("web.2", 34));
  LogplexBody parsed = ParseLogplexBody(body);  // views into `body`: it must outlive them
  REQUIRE(parsed.frames.size() == 2);
  CHECK(IsRouterMessage(parsed.frames[0].message));
  CHECK(parsed.frames[1].message.message.starts_with("at=info"));
  CHECK(parsed.frames[1].message.message.ends_with("bytes=9"));
}

TEST_CASE("a count larger than the body: earlier frames survive, the cut one is reported") {
  const std::string good = Frame(RouterMessage("web.1", 12));
  std::string cut = Frame(RouterMessage("web.2", 34));
  cut.resize(cut.size() - 10);
  LogplexBody parsed = ParseLogplexBody(good + cut);
  CHECK(parsed.frames.size() == 1);
  REQUIRE(parsed.problems.size() == 1);
  CHECK(parsed.problems[0].error == FrameError::kTruncated);
  CHECK(parsed.problems[0].offset == good.size());
  CHECK(parsed.problems[0].ToString() ==
        "byte " + std::to_string(good.size()) + ": octet count runs past the end of the body");
}

TEST_CASE("non-digit counts resynchronise at the next frame") {
  const std::string body = "xx <40>1 garbage here\n" + Frame(RouterMessage("web.1", 5)) +
                           "12a <1>1 nope\n" + Frame(RouterMessage("web.2", 6));
  LogplexBody parsed = ParseLogplexBody(body);
  CHECK(parsed.frames.size() == 2);
  REQUIRE(parsed.problems.size() == 2);
  CHECK(parsed.problems[0].error == FrameError::kBadCount);
  CHECK(parsed.problems[0].offset == 0);
  CHECK(parsed.problems[1].error == FrameError::kBadCount);
}

TEST_CASE("giant counts are refused without overflow or allocation") {
  for (std::string count :
       {"99999999999999999999999999", "18446744073709551617", "1000000", "65537"}) {
    CAPTURE(count);
    LogplexBody parsed = ParseLogplexBody(count + " <40>1 2012-11-30T06:45:29+00:00 h a p - m\n" +
                                          Frame(RouterMessage("web.1", 5)));
    REQUIRE(parsed.problems.size() == 1);
    CHECK(parsed.problems[0].error == FrameError::kCountTooLarge);
    CHECK(parsed.frames.size() == 1);  // the frame after it is still read
  }
  // The limit is the caller's.
  LogplexBody small = ParseLogplexBody(Frame(RouterMessage("web.1", 5)), 32);
  CHECK(small.frames.empty());
  REQUIRE(small.problems.size() == 1);
  CHECK(small.problems[0].error == FrameError::kCountTooLarge);
}

TEST_CASE("a frame inside a frame: the outer one is dropped, the inner one read") {
  const std::string inner = Frame(RouterMessage("web.2", 20));
  SUBCASE("an outer count that swallows the next frame") {
    const std::string first = RouterMessage("web.1", 10);
    const std::string body = std::to_string(first.size() + inner.size()) + " " + first + inner;
    LogplexBody parsed = ParseLogplexBody(body);
    REQUIRE(parsed.problems.size() == 1);
    CHECK(parsed.problems[0].error == FrameError::kFrameInsideFrame);
    REQUIRE(parsed.frames.size() == 1);
    CHECK(parsed.frames[0].message.message.find("dyno=web.2") != std::string_view::npos);
  }
  SUBCASE("a frame wrapped in another count") {
    const std::string body =
        std::to_string(inner.size()) + " " + inner + Frame(RouterMessage("web.3", 30));
    LogplexBody parsed = ParseLogplexBody(body);
    CHECK(parsed.problems.size() >= 1);
    CHECK(parsed.problems[0].error == FrameError::kFrameInsideFrame);
    bool saw_web3 = false;
    for (const auto& frame : parsed.frames) {
      saw_web3 |= frame.message.message.find("dyno=web.3") != std::string_view::npos;
    }
    CHECK(saw_web3);
  }
}

TEST_CASE("a frame that is not a syslog message is skipped by its count") {
  LogplexBody parsed = ParseLogplexBody("5 hello" + Frame(RouterMessage("web.1", 5)) + "0 " +
                                        Frame(RouterMessage("web.2", 5)));
  CHECK(parsed.frames.size() == 2);
  REQUIRE(parsed.problems.size() == 2);
  CHECK(parsed.problems[0].error == FrameError::kBadMessage);
  CHECK(parsed.problems[1].error == FrameError::kBadMessage);
}

TEST_CASE("counts without the newline, and newlines between frames, are tolerated") {
  std::string message = RouterMessage("web.1", 5);
  message.pop_back();  // count excludes the newline, which follows the frame
  LogplexBody parsed = ParseLogplexBody(Frame(message) + "\r\n" + Frame(message) + "\n");
  CHECK(parsed.frames.size() == 2);
  CHECK(parsed.problems.empty());
  CHECK(ParseLogplexBody("").frames.empty());
  CHECK(ParseLogplexBody("\n\n").problems.empty());
}

TEST_CASE("a streaming reader stops at a cut frame and says how far it got") {
  const std::string body = Frame(RouterMessage("web.1", 5)) + Frame(RouterMessage("web.2", 6));
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    CAPTURE(cut);
    LogplexReader reader(std::string_view(body).substr(0, cut), /*final=*/false);
    LogplexFrame frame;
    FramingProblem problem;
    int frames = 0;
    LogplexReader::Step step;
    while ((step = reader.Next(frame, problem)) == LogplexReader::Step::kFrame)
      ++frames;
    CHECK(step != LogplexReader::Step::kProblem);
    const size_t first_size = Frame(RouterMessage("web.1", 5)).size();
    CHECK(frames == (cut >= body.size() ? 2 : cut >= first_size ? 1 : 0));
    CHECK(reader.consumed() == (frames == 2 ? body.size() : frames == 1 ? first_size : 0));
  }
}

TEST_CASE("ParseSyslogMessage: RFC 5424 structured data and logplex's short form") {
  SyslogMessage m;
  REQUIRE(
      ParseSyslogMessage("<134>1 2026-11-22T13:00:00Z h heroku router - - at=info dyno=web.1", m));
  CHECK(m.message == "at=info dyno=web.1");
  REQUIRE(ParseSyslogMessage(
      "<134>1 2026-11-22T13:00:00Z h heroku router ID47 [a b=\"c\\]\"][d] at=info", m));
  CHECK(m.msg_id == "ID47");
  CHECK(m.message == "at=info");
  REQUIRE(ParseSyslogMessage("<134>1 2026-11-22T13:00:00Z h heroku router -", m));
  CHECK(m.message.empty());
  CHECK_FALSE(ParseSyslogMessage("<134>1 2026-11-22T13:00:00Z h heroku", m));
  CHECK_FALSE(ParseSyslogMessage("<1340>1 t h a p - m", m));
  CHECK_FALSE(ParseSyslogMessage("<192>1 t h a p - m", m));
  CHECK_FALSE(ParseSyslogMessage("<13> t h a p - m", m));
  CHECK_FALSE(ParseSyslogMessage("134>1 t h a p - m", m));
  CHECK_FALSE(ParseSyslogMessage("<134>1 t  h a p - m", m));
  CHECK_FALSE(ParseSyslogMessage("<134>1 t h a p - [unterminated", m));
}

TEST_CASE("binary garbage never reads outside the body") {
  std::mt19937_64 rng(11);
  const std::string valid = Frame(RouterMessage("web.1", 5));
  for (int i = 0; i < 3000; ++i) {
    std::string body;
    const size_t pieces = rng() % 6;
    for (size_t p = 0; p < pieces; ++p) {
      switch (rng() % 4) {
        case 0:
          body += valid;
          break;
        case 1:
          body += std::to_string(rng() % 400) + " <";
          break;
        case 2:
          body += "\n";
          break;
        default:
          for (size_t k = rng() % 64; k > 0; --k)
            body.push_back(static_cast<char>(rng() & 0xff));
      }
    }
    LogplexBody parsed = ParseLogplexBody(body);
    for (const auto& frame : parsed.frames) {
      CHECK(frame.offset < body.size());
      const auto& text = frame.message.message;
      CHECK(text.data() >= body.data());
      CHECK(text.data() + text.size() <= body.data() + body.size());
    }
    for (const auto& problem : parsed.problems)
      CHECK(problem.offset < body.size());
  }
}
