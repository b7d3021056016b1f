// The Prometheus source against a fake /api/v1/query on 127.0.0.1.
#include "providers/sources/prometheus_source.h"

#include <doctest/doctest.h>

#include <cmath>

#include "providers/sources/http_fields.h"
#include "providers/sources/sources_test_support.h"

using namespace dynoherd;
using namespace dynoherd::providers;
using namespace dynoherd::providers::sources;
using namespace dynoherd::providers::sources::testing;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = kStart;
constexpr const char* kQuery =
    R"(histogram_quantile(0.5, sum by (dyno, le) (rate(http_request_duration_seconds_bucket{app="shop"}[5m]))))";

model::AppState App() {
  model::AppState app;
  for (int i = 1; i <= 3; ++i)
    app.dynos.push_back({"web." + std::to_string(i), "web", "up", kNow - 1h});
  app.dynos.push_back({"worker.1", "worker", "up", kNow - 1h});
  return app;
}

spec::FormationSpec Formation(const std::string& url, const std::string& query = kQuery,
                              const std::string& type = "web") {
  spec::FormationSpec f = LatencyFormation(type);
  f.latency->source = spec::LatencySourceKind::kPrometheus;
  f.latency->url = url;
  f.latency->query = query;
  return f;
}

std::string Vector(const std::vector<std::pair<std::string, std::string>>& samples,
                   const std::string& label = "dyno") {
  std::string out = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) out += ",";
    out += R"({"metric":{)";
    if (!samples[i].first.empty()) out += "\"" + label + "\":\"" + samples[i].first + "\",";
    out += R"("app":"shop"},"value":[1795352400,")" + samples[i].second + "\"]}";
  }
  return out + "]}}";
}

std::string Scalar(const std::string& value) {
  return R"({"status":"success","data":{"resultType":"scalar","result":[1795352400,")" + value +
         "\"]}}";
}

// A Prometheus that answers every query with `status` and `body`.
struct FakePrometheus {
  int status;
  std::string body;
  TestHttpServer server;
  FakePrometheus(int s, std::string b)
      : status(s),
        body(std::move(b)),
        server([this](const httplib::Request&, httplib::Response& res) {
          res.status = status;
          res.set_content(body, "application/json");
        }) {}
};

model::FormationLatency ReadOnce(const std::string& url, PrometheusOptions options = {},
                                 const std::string& query = kQuery,
                                 CapturingLogger* log_out = nullptr) {
  CapturingLogger local;
  CapturingLogger& log = log_out ? *log_out : local;
  spec::FormationSpec web = Formation(url, query);
  auto source = PrometheusSource::Create({&web}, std::move(options), log);
  REQUIRE_MESSAGE(source.ok(), source.status().message());
  auto out = (*source)->Read({&web}, App(), kNow);
  REQUIRE(out.count("web"));
  return out["web"];
}

model::FormationLatency Answer(int status, const std::string& body) {
  FakePrometheus prometheus(status, body);
  return ReadOnce(prometheus.server.url());
}

}  // namespace

TEST_CASE("a vector by dyno gives per-dyno values and their mean for the formation") {
  FakePrometheus prometheus(
      200, Vector({{"web.1", "0.1"}, {"web.2", "0.12"}, {"web.3", "0.62"}, {"worker.1", "9"}}));
  model::FormationLatency web = ReadOnce(prometheus.server.url() + "/");
  REQUIRE(web.value);
  CHECK(*web.value == doctest::Approx((0.1 + 0.12 + 0.62) / 3));
  CHECK(web.sample_count == 0);       // Prometheus gives no request counts
  REQUIRE(web.per_dyno.size() == 3);  // worker.1 belongs to another formation
  const model::LatencyStats& slow = web.per_dyno["web.3"];
  CHECK(slow.count == 1);
  for (double v : {slow.mean, slow.p50, slow.p95, slow.p99, slow.max})
    CHECK(v == 0.62);
  CHECK(web.per_dyno["web.1"].p50 == 0.1);

  // The request: the query URL-encoded, evaluated at the pass's now.
  auto seen = prometheus.server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].path == "/api/v1/query");
  CHECK(seen[0].params.find("query")->second == kQuery);
  CHECK(seen[0].params.find("time")->second == "1795352400.000");
  CHECK(seen[0].authorization.empty());
}

TEST_CASE("another dyno label is honoured") {
  FakePrometheus prometheus(200, Vector({{"web.1", "0.2"}, {"web.2", "0.3"}}, "heroku_dyno"));
  CapturingLogger log;
  spec::FormationSpec web = Formation(prometheus.server.url());
  web.latency->dyno_label = "heroku_dyno";
  auto source = PrometheusSource::Create({&web}, {}, log);
  REQUIRE(source.ok());
  auto out = (*source)->Read({&web}, App(), kNow);
  CHECK(out["web"].per_dyno.size() == 2);
  CHECK(*out["web"].value == doctest::Approx(0.25));
}

TEST_CASE("a scalar, or one sample without the label, is the formation's value only") {
  model::FormationLatency scalar = Answer(200, Scalar("0.35"));
  REQUIRE(scalar.value);
  CHECK(*scalar.value == 0.35);
  CHECK(scalar.per_dyno.empty());
  model::FormationLatency single = Answer(200, Vector({{"", "1.5"}}));
  REQUIRE(single.value);
  CHECK(*single.value == 1.5);
  CHECK(single.per_dyno.empty());
}

TEST_CASE("NaN, infinities and negative values are no latency") {
  for (const char* v : {"NaN", "+Inf", "-Inf", "-0.5"}) {
    CAPTURE(v);
    model::FormationLatency scalar = Answer(200, Scalar(v));
    CHECK_FALSE(scalar.value);
    CHECK(scalar.unknown_reason.find("the query's value is") != std::string::npos);
  }
  CHECK(Answer(200, Scalar("NaN")).unknown_reason.find("NaN (no requests") != std::string::npos);
  // One dyno's NaN leaves that dyno out; all of them NaN leaves the formation unknown.
  model::FormationLatency some = Answer(200, Vector({{"web.1", "NaN"}, {"web.2", "0.2"}}));
  REQUIRE(some.value);
  CHECK(*some.value == 0.2);
  CHECK(some.per_dyno.count("web.1") == 0);
  model::FormationLatency none = Answer(200, Vector({{"web.1", "NaN"}, {"web.2", "+Inf"}}));
  CHECK_FALSE(none.value);
  CHECK(none.unknown_reason.find("no usable value: web.1, web.2") != std::string::npos);
}

TEST_CASE("empty results and shapes that cannot be read say why") {
  struct Case {
    std::string body;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {Vector({}), "the query returned no samples"},
           {Vector({{"", "0.1"}, {"", "0.2"}}),
            "returned 2 samples without the label \"dyno\": aggregate them by dyno"},
           {Vector({{"web.1", "0.1"}, {"", "0.2"}}), "1 of the query's 2 samples lack the label"},
           {Vector({{"web.1", "0.1"}, {"web.1", "0.2"}}), "several samples for dyno=\"web.1\""},
           {Vector({{"web.7", "0.1"}, {"run.1", "0.2"}}),
            "none of the query's dyno labels (web.7, run.1) names one of the formation's dynos "
            "(web.1, web.2, web.3)"},
           {R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
            "the query returns a range vector"},
           {R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})",
            "the query returns a string, not a vector or scalar"},
           {"<html>oops</html>", "the answer is not a Prometheus API JSON object"},
           {R"({"status":"success"})", "the answer has no data.result"},
           {R"({"status":"success","data":{"resultType":"scalar","result":[1,"fast"]}})",
            "a sample's value \"fast\" is not a number"},
       }) {
    CAPTURE(c.body);
    model::FormationLatency web = Answer(200, c.body);
    CHECK_FALSE(web.value);
    CHECK(web.unknown_reason.find(c.reason) != std::string::npos);
    CHECK(web.unknown_reason.rfind("prometheus at 127.0.0.1:", 0) == 0);
  }
}

TEST_CASE("errors and non-success answers make the latency unknown with Prometheus' words") {
  model::FormationLatency bad = Answer(
      400,
      R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""})");
  CHECK_FALSE(bad.value);
  CHECK(bad.unknown_reason.find("answered 400: bad_data: 1:5: parse error") != std::string::npos);
  model::FormationLatency overloaded = Answer(503, "Service Unavailable");
  CHECK(overloaded.unknown_reason.find("answered 503") != std::string::npos);
  model::FormationLatency denied = Answer(401, "");
  CHECK(denied.unknown_reason.find("check the user and password") != std::string::npos);
  // A 200 whose JSON says error (some proxies do this) is an error too.
  model::FormationLatency error_in_200 =
      Answer(200, R"({"status":"error","errorType":"timeout","error":"query timed out"})");
  CHECK(error_in_200.unknown_reason.find("timeout: query timed out") != std::string::npos);
}

TEST_CASE("redirects are not followed, to this host or another") {
  FakePrometheus elsewhere(200, Scalar("0.1"));
  TestHttpServer redirecting([&](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", elsewhere.server.url() + "/api/v1/query?query=up");
  });
  model::FormationLatency web = ReadOnce(redirecting.url());
  CHECK_FALSE(web.value);
  CHECK(web.unknown_reason.find("answered 302 (redirects are not followed") != std::string::npos);
  CHECK(elsewhere.server.seen().empty());
}

TEST_CASE("credentials in the URL become basic auth, never a message; else the bearer token") {
  FakePrometheus prometheus(503, "");
  const std::string with_credentials =
      "http://grafana%20user:p%40ss%2Fword@127.0.0.1:" + std::to_string(prometheus.server.port()) +
      "/prom/";
  CapturingLogger log;
  model::FormationLatency web = ReadOnce(with_credentials, {}, kQuery, &log);
  auto seen = prometheus.server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/prom/api/v1/query");
  CHECK(BasicAuthPassword(seen[0].authorization) == "p@ss/word");
  CHECK(seen[0].authorization == BasicAuthorization("grafana user", "p@ss/word"));
  CHECK(web.unknown_reason.find("p@ss") == std::string::npos);
  CHECK(web.unknown_reason.find("p%40ss") == std::string::npos);
  CHECK_FALSE(LogsContain(log, "p%40ss"));
  CHECK_FALSE(LogsContain(log, "p@ss"));

  PrometheusOptions bearer;
  bearer.bearer_token = "prom-token-123";
  ReadOnce(prometheus.server.url(), bearer);
  CHECK(prometheus.server.seen().back().authorization == "Bearer prom-token-123");
  // The URL's own credentials win over the token.
  ReadOnce(with_credentials, bearer);
  CHECK(prometheus.server.seen().back().authorization ==
        BasicAuthorization("grafana user", "p@ss/word"));
}

TEST_CASE("an unreachable Prometheus is unknown latency naming the host only") {
  int port = 0;
  {
    FakePrometheus gone(200, "");
    port = gone.server.port();
  }
  const std::string url = "http://user:hunter2@127.0.0.1:" + std::to_string(port);
  PrometheusOptions options;
  options.transport.connect_timeout = 2s;
  model::FormationLatency web = ReadOnce(url, options);
  CHECK_FALSE(web.value);
  CHECK(web.unknown_reason.find("prometheus query failed: connect to 127.0.0.1:" +
                                std::to_string(port)) != std::string::npos);
  CHECK(web.unknown_reason.find("hunter2") == std::string::npos);
}

TEST_CASE("URLs that are not a base address are refused at creation, without the password") {
  CapturingLogger log;
  for (const std::string url :
       {"http://u:hunter2@127.0.0.1:9090/?x=1", "http://u:hunter2@127.0.0.1:9090/#f",
        "ftp://u:hunter2@127.0.0.1", "http://u:hunter2%zz@127.0.0.1", "http://u:hunter2@/",
        "http://a%3Ab:hunter2@127.0.0.1"}) {
    CAPTURE(url);
    spec::FormationSpec web = Formation(url);
    auto source = PrometheusSource::Create({&web}, {}, log);
    REQUIRE_FALSE(source.ok());
    CHECK(source.status().message().rfind("formation web: latency.url", 0) == 0);
    CHECK(source.status().message().find("hunter2") == std::string::npos);
  }
}

TEST_CASE("each formation asks its own query") {
  FakePrometheus prometheus(200, Vector({{"web.1", "0.2"}, {"worker.1", "4"}}));
  CapturingLogger log;
  spec::FormationSpec web = Formation(prometheus.server.url(), "web_latency");
  spec::FormationSpec worker = Formation(prometheus.server.url(), "worker_latency", "worker");
  auto source = PrometheusSource::Create({&web, &worker}, {}, log);
  REQUIRE(source.ok());
  auto out = (*source)->Read({&web, &worker}, App(), kNow);
  CHECK(*out["web"].value == 0.2);
  CHECK(*out["worker"].value == 4);
  auto seen = prometheus.server.seen();
  REQUIRE(seen.size() == 2);
  std::set<std::string> queries = {seen[0].params.find("query")->second,
                                   seen[1].params.find("query")->second};
  CHECK(queries == std::set<std::string>{"web_latency", "worker_latency"});
}
