// The drain receiver over real HTTP: a cpp-httplib server on 127.0.0.1 hands every
// POST /drains/<policy> to DrainReceiver::Handle, as the listener of `dynoherd run` does.
#include "providers/sources/drain.h"

#include <doctest/doctest.h>

#include "providers/sources/sources_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::sources;
using namespace dynoherd::providers::sources::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "drain-s3cret-value";

spec::FormationSpec DrainFormation(const std::string& type, Duration window = 5min) {
  spec::FormationSpec f = LatencyFormation(type, window);
  f.latency->via = spec::RouterLogsVia::kDrain;
  return f;
}

model::AppState App(int web_dynos) {
  model::AppState app;
  app.formations.push_back({"web", web_dynos, "standard-1x", kStart - 1h});
  for (int i = 1; i <= web_dynos; ++i) {
    app.dynos.push_back({"web." + std::to_string(i), "web", "up", kStart - 1h});
  }
  return app;
}

// Three dynos' requests at 12:59:xx, web.3 five times slower.
std::string Batch(int second = 10) {
  std::string body;
  for (int i = 0; i < 3; ++i) {
    const std::string ts = "2026-11-22T12:59:" + std::to_string(second + i) + ".000000+00:00";
    body += RouterFrame(ts, "web.1", 100);
    body += RouterFrame(ts, "web.2", 110);
    body += RouterFrame(ts, "web.3", 520);
  }
  body += Frame("2026-11-22T12:59:15.000000+00:00", "app", "web.1", "Completed 200 OK in 98ms");
  return body;
}

struct Harness {
  ManualClock clock{kStart};
  CapturingLogger log;
  LineCounts lines;
  std::shared_ptr<DrainRegistry> registry;
  std::shared_ptr<DrainInbox> inbox;  // held as the policy's DrainSource would hold it
  DrainReceiver receiver;
  TestHttpServer server;
  httplib::Client client;

  explicit Harness(std::optional<std::string> secret = kSecret, size_t remembered_frames = 4096,
                   size_t max_body_bytes = 1u << 20)
      : registry(std::make_shared<DrainRegistry>(remembered_frames)),
        inbox(registry->Acquire("shop", 5min).value()),
        receiver(registry, {secret, max_body_bytes}, clock, log, lines.Counter()),
        server([this](const httplib::Request& req, httplib::Response& res) {
          std::vector<std::pair<std::string, std::string>> headers(req.headers.begin(),
                                                                   req.headers.end());
          const std::string prefix = "/drains/";
          DrainReply reply =
              receiver.Handle(req.path.substr(prefix.size()), headers, req.body, req.remote_addr);
          res.status = reply.status;
          if (!reply.body.empty()) res.set_content(reply.body, "text/plain");
        }),
        client(server.url()) {}

  // POSTs `body` as Heroku does: basic auth with `password`, logplex headers.
  httplib::Result Post(const std::string& body, const std::string& frame_id = "",
                       std::optional<std::string> password = kSecret,
                       const std::string& policy = "shop",
                       const std::string& content_type = "application/logplex-1") {
    httplib::Headers headers = {{"Logplex-Msg-Count", "10"}, {"Logplex-Drain-Token", "d.fc6b"}};
    if (!frame_id.empty()) headers.emplace("Logplex-Frame-Id", frame_id);
    httplib::Client c(server.url());
    if (password) c.set_basic_auth("token", password->c_str());
    return c.Post(("/drains/" + policy).c_str(), headers, body, content_type.c_str());
  }

  model::FormationLatency Read(Duration window = 5min) {
    spec::FormationSpec web = DrainFormation("web", window);
    DrainSource source(inbox, "shop");
    auto out = source.Read({&web}, App(3), clock.Now());
    REQUIRE(out.count("web"));
    return out["web"];
  }
};

}  // namespace

TEST_CASE("a batch with the right password lands in the policy's window; the laggard shows") {
  Harness h;
  auto res = h.Post(Batch(), "frame-1");
  REQUIRE(res);
  CHECK(res->status == 204);
  CHECK(res->body.empty());

  model::FormationLatency web = h.Read();
  REQUIRE(web.value);
  CHECK(web.per_dyno.size() == 3);
  CHECK(web.per_dyno["web.1"].count == 3);
  CHECK(web.per_dyno["web.3"].count == 3);
  CHECK(web.per_dyno["web.3"].p50 == doctest::Approx(0.520).epsilon(0.02));
  CHECK(web.per_dyno["web.1"].p50 == doctest::Approx(0.100).epsilon(0.02));
  CHECK(web.sample_count == 9);
  CHECK(h.lines.parsed() == 9);
  CHECK(h.lines.ignored() == 1);
  CHECK(h.inbox->stats().batches == 1);
}

TEST_CASE("any user name goes, the password must match exactly; 401 otherwise") {
  Harness h;
  auto no_auth = h.Post(Batch(), "", std::nullopt);
  REQUIRE(no_auth);
  CHECK(no_auth->status == 401);
  for (const char* wrong :
       {"", "drain-s3cret-valu", "drain-s3cret-value!", "DRAIN-S3CRET-VALUE", "x"}) {
    auto res = h.Post(Batch(), "", wrong);
    REQUIRE(res);
    CHECK(res->status == 401);
  }
  // A bearer token is not basic auth.
  httplib::Client c(h.server.url());
  c.set_bearer_token_auth(kSecret);
  auto bearer = c.Post("/drains/shop", Batch(), "application/logplex-1");
  REQUIRE(bearer);
  CHECK(bearer->status == 401);

  CHECK(h.inbox->stats().batches == 0);
  CHECK_FALSE(h.Read().value);
  // Refusals are logged, at most once a minute, and never with the secret.
  CHECK(h.log.Contains(LogLevel::kWarn, "log drain batch refused"));
  size_t warnings = 0;
  for (const auto& e : h.log.entries())
    warnings += e.level == LogLevel::kWarn;
  CHECK(warnings == 1);
  CHECK_FALSE(LogsContain(h.log, kSecret));

  auto right = h.Post(Batch());
  REQUIRE(right);
  CHECK(right->status == 204);
}

TEST_CASE("without DYNOHERD_DRAIN_SECRET every batch is refused, and the log says why") {
  for (std::optional<std::string> secret :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    Harness h(secret);
    auto res = h.Post(Batch(), "f", "");
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(res->body.find("DYNOHERD_DRAIN_SECRET") != std::string::npos);
    auto again = h.Post(Batch(), "g", "anything");
    REQUIRE(again);
    CHECK(again->status == 503);
    CHECK(h.inbox->stats().batches == 0);
    CHECK(h.log.Contains(LogLevel::kError, "DYNOHERD_DRAIN_SECRET is not set"));
    CHECK(h.log.entries().size() == 1);  // once a minute, not once a batch
  }
}

TEST_CASE("a policy without a drain is 404, after authentication") {
  Harness h;
  auto unknown = h.Post(Batch(), "", kSecret, "other-policy");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(unknown->body.find("other-policy") != std::string::npos);
  auto unauthenticated = h.Post(Batch(), "", "wrong", "other-policy");
  REQUIRE(unauthenticated);
  CHECK(unauthenticated->status == 401);  // nothing about policies before the password

  // The inbox lives as long as the policy's source holds it: once dropped, the route is 404.
  h.inbox.reset();
  auto gone = h.Post(Batch());
  REQUIRE(gone);
  CHECK(gone->status == 404);
}

TEST_CASE("bodies over the limit get 413, other content types 415") {
  Harness h;
  std::string big = Batch();
  big.resize((1u << 20) + 1, '\n');
  auto res = h.Post(big);
  REQUIRE(res);
  CHECK(res->status == 413);
  auto json = h.Post(Batch(), "", kSecret, "shop", "application/json");
  REQUIRE(json);
  CHECK(json->status == 415);
  auto with_charset = h.Post(Batch(), "", kSecret, "shop", "application/logplex-1; charset=utf-8");
  REQUIRE(with_charset);
  CHECK(with_charset->status == 204);
  CHECK(h.inbox->stats().batches == 1);
}

TEST_CASE("a retried batch (same Logplex-Frame-Id) is taken once") {
  Harness h;
  for (int i = 0; i < 3; ++i) {
    auto res = h.Post(Batch(), "09C557EAFCFB6CF2740EE62F62971098");
    REQUIRE(res);
    CHECK(res->status == 204);
  }
  auto other = h.Post(Batch(20), "09C557EAFCFB6CF2740EE62F62971099");
  REQUIRE(other);
  CHECK(other->status == 204);
  CHECK(h.inbox->stats().batches == 2);
  CHECK(h.Read().per_dyno["web.1"].count == 6);
  CHECK(h.lines.parsed() == 18);  // two batches of 9 router lines: the retries not counted
  // Without a frame id there is nothing to recognise: each POST counts.
  REQUIRE(h.Post(Batch(30)));
  REQUIRE(h.Post(Batch(30)));
  CHECK(h.Read().per_dyno["web.1"].count == 12);
  CHECK(h.lines.parsed() == 36);
}

TEST_CASE("frame ids are remembered within a bound, the oldest forgotten first") {
  Harness h(kSecret, /*remembered_frames=*/2);
  for (const char* id : {"a", "b", "c"})
    REQUIRE(h.Post(Batch(), id)->status == 204);
  CHECK(h.inbox->stats().batches == 3);
  REQUIRE(h.Post(Batch(), "c")->status == 204);  // remembered
  REQUIRE(h.Post(Batch(), "b")->status == 204);  // remembered
  CHECK(h.inbox->stats().batches == 3);
  REQUIRE(h.Post(Batch(), "a")->status == 204);  // forgotten: taken again
  CHECK(h.inbox->stats().batches == 4);
}

TEST_CASE(
    "partial garbage: the readable frames count, the rest is reported; none readable is 400") {
  Harness h;
  std::string body = RouterFrame("2026-11-22T12:59:10.000000+00:00", "web.1", 100) +
                     "999999 <158>1 truncated frame\n" + "\x01\x02 binary junk\n" +
                     RouterFrame("2026-11-22T12:59:11.000000+00:00", "web.2", 120) +
                     Frame("2026-11-22T12:59:12.000000+00:00", "heroku", "router",
                           "at=info dyno=web.3 service=12qs status=200");
  auto res = h.Post(body, "partial");
  REQUIRE(res);
  CHECK(res->status == 204);
  model::FormationLatency web = h.Read();
  CHECK(web.per_dyno["web.1"].count == 1);
  CHECK(web.per_dyno["web.2"].count == 1);
  CHECK(h.log.Contains(LogLevel::kWarn, "log drain batch partly unreadable"));
  CHECK(h.lines.parsed() == 2);
  // One framing problem (a count larger than the body, then junk up to the next frame) and one
  // router line that cannot be read (service=12qs).
  CHECK(h.lines.malformed() == 2);

  for (const std::string& garbage :
       {std::string("hello world"), std::string(""), std::string("12 <1>1\n"),
        std::string("\xff\xfe\x00\x01", 4)}) {
    auto bad = h.Post(garbage, "garbage");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(bad->body.find("no logplex frame") != std::string::npos);
  }
  // A 400 does not remember its frame id: the same id with a good body is taken.
  auto fixed = h.Post(Batch(), "garbage");
  REQUIRE(fixed);
  CHECK(fixed->status == 204);
  CHECK(h.inbox->stats().batches == 2);
}

TEST_CASE("a batch of app output only is delivered (204) and changes no latency") {
  Harness h;
  auto res = h.Post(Frame("2026-11-22T12:59:12.000000+00:00", "app", "web.1", "GET / 200"));
  REQUIRE(res);
  CHECK(res->status == 204);
  model::FormationLatency web = h.Read();
  CHECK_FALSE(web.value);
  CHECK(web.unknown_reason.find("no router lines for web in the last 5m") != std::string::npos);
  CHECK(web.unknown_reason.find("the last drain batch arrived") != std::string::npos);
}

TEST_CASE("the drain source says when nothing arrived, and lines age out of the window") {
  Harness h;
  model::FormationLatency before = h.Read();
  CHECK_FALSE(before.value);
  CHECK(before.unknown_reason.find("has received nothing for 0s since dynoherd started") !=
        std::string::npos);
  CHECK(before.error.empty());  // not yet a window of silence: not enough data
  REQUIRE(h.Post(Batch())->status == 204);
  CHECK(h.Read().value);
  h.clock.Advance(10min);
  model::FormationLatency later = h.Read();
  CHECK_FALSE(later.value);
  CHECK(later.unknown_reason.find("the last drain batch arrived 10m ago") != std::string::npos);
  CHECK(later.error.empty());  // it delivered once: a quiet app, not a broken drain
}

TEST_CASE("a drain silent for a whole window since the start cannot observe: an error") {
  Harness h;
  CHECK(h.Read().error.empty());
  h.clock.Advance(4min);
  CHECK(h.Read().error.empty());
  h.clock.Advance(1min);  // the window is 5m
  model::FormationLatency silent = h.Read();
  CHECK_FALSE(silent.value);
  CHECK(silent.error.find("has received nothing for 5m since dynoherd started") !=
        std::string::npos);
  CHECK(silent.unknown_reason == silent.error);
  REQUIRE(h.Post(Batch())->status == 204);
  CHECK(h.Read().error.empty());
}

TEST_CASE("the registry keeps one inbox per policy, widening it when a reload asks for more") {
  DrainRegistry registry;
  auto five = registry.Acquire("shop", 5min);
  REQUIRE(five.ok());
  auto again = registry.Acquire("shop", 2min);
  CHECK(again->get() == five->get());
  auto ten = registry.Acquire("shop", 10min);
  CHECK(ten->get() != five->get());
  CHECK(registry.Find("shop") == *ten);
  CHECK(registry.Find("nobody") == nullptr);
  auto bad = registry.Acquire("bad", -1min);
  CHECK_FALSE(bad.ok());
}

TEST_CASE("the one-shot drain source says it needs dynoherd run") {
  spec::FormationSpec web = DrainFormation("web");
  UnknownLatencySource source("via: drain needs `dynoherd run` to receive the drain");
  auto out = source.Read({&web}, App(2), kStart);
  REQUIRE(out.count("web"));
  CHECK_FALSE(out["web"].value);
  CHECK(out["web"].unknown_reason == "via: drain needs `dynoherd run` to receive the drain");
}
