#include "metrics/metrics.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace dynoherd;
using namespace dynoherd::metrics;
using namespace std::chrono_literals;

namespace {

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

FormationSample WebSample() {
  FormationSample s;
  s.policy = "shop-web";
  s.app = "shop";
  s.formation = "web";
  s.observed_quantity = 4;
  s.desired_quantity = 5;
  s.baseline_quantity = 4;
  s.max_quantity = 6;
  s.statistic = "p95";
  s.latency_seconds = 2.41;
  s.latency_threshold_seconds = 2;
  s.restored_threshold_seconds = 1;
  s.event_active = true;
  s.event_depth = 1;
  s.event_duration_seconds = 30;
  s.dynos = {{"web.1", 0.1, 0.09, 0.2, 0.3, 0.5}, {"web.2", 0.6, 0.61, 0.9, 1.2, 4.1}};
  s.conditions = {{"Ready", "False"}, {"LatencyEvent", "True"}};
  return s;
}

FormationSample SidekiqSample() {
  FormationSample s;
  s.policy = "shop-workers";
  s.app = "shop";
  s.formation = "worker";
  s.observed_quantity = 2;
  s.desired_quantity = 2;
  s.statistic = "max";
  s.latency_seconds = 42.5;
  s.queues = {{"default", 17, 42.5}, {"mailers", 0, 0.0}, {"broken", 3, std::nullopt}};
  return s;
}

}  // namespace

TEST_CASE("every contract metric is exported with its labels") {
  Metrics m("1.2.3");
  m.RecordPass("shop-web", true, 0.3, TimePoint{} + 1795352400s);
  m.RecordFormation(WebSample());
  m.CountRestart("shop-web", "shop", "web", "restart");
  m.CountScale("shop-web", "shop", "web", "up");
  m.CountHerokuRequest("GET", 200);
  m.SetHerokuRateLimitRemaining(4321);
  m.CountRouterLines("parsed", 10);
  m.CountSpecReloadError();
  std::string text = m.Serialize();

  CHECK(Has(text, "dynoherd_build_info{version=\"1.2.3\"} 1"));
  CHECK(Has(text, "dynoherd_reconcile_total{policy=\"shop-web\",result=\"ok\"} 1"));
  CHECK(Has(text, "dynoherd_reconcile_total{policy=\"shop-web\",result=\"error\"} 0"));
  CHECK(Has(text, "dynoherd_reconcile_duration_seconds_count{policy=\"shop-web\"} 1"));
  CHECK(Has(text, "dynoherd_last_reconcile_timestamp_seconds{policy=\"shop-web\"} 1795352400"));
  CHECK(Has(text,
            "dynoherd_formation_quantity{app=\"shop\",formation=\"web\",policy=\"shop-web\"} 4"));
  CHECK(Has(
      text,
      "dynoherd_formation_desired_quantity{app=\"shop\",formation=\"web\",policy=\"shop-web\"} 5"));
  CHECK(Has(text,
            "dynoherd_formation_latency_seconds{app=\"shop\",formation=\"web\",policy=\"shop-web\","
            "statistic=\"p95\"} 2.41"));
  CHECK(Has(text,
            "dynoherd_dyno_latency_seconds{app=\"shop\",dyno=\"web.2\",formation=\"web\",policy="
            "\"shop-web\",statistic=\"p50\"} 0.61"));
  CHECK(Has(text,
            "dynoherd_dyno_zscore{app=\"shop\",dyno=\"web.2\",formation=\"web\",policy=\"shop-"
            "web\"} 4.1"));
  CHECK(Has(text,
            "dynoherd_latency_event_active{app=\"shop\",formation=\"web\",policy=\"shop-web\"} 1"));
  CHECK(Has(text,
            "dynoherd_latency_event_depth{app=\"shop\",formation=\"web\",policy=\"shop-web\"} 1"));
  CHECK(Has(text,
            "dynoherd_dyno_restarts_total{action=\"restart\",app=\"shop\",formation=\"web\",policy="
            "\"shop-web\"} 1"));
  CHECK(Has(text,
            "dynoherd_scale_changes_total{app=\"shop\",direction=\"up\",formation=\"web\",policy="
            "\"shop-web\"} 1"));
  CHECK(Has(text,
            "dynoherd_condition{app=\"shop\",formation=\"web\",policy=\"shop-web\",status="
            "\"True\",type=\"LatencyEvent\"} 1"));
  CHECK(Has(text,
            "dynoherd_condition{app=\"shop\",formation=\"web\",policy=\"shop-web\",status="
            "\"False\",type=\"LatencyEvent\"} 0"));
  CHECK(Has(text, "dynoherd_heroku_requests_total{code=\"200\",method=\"GET\"} 1"));
  CHECK(Has(text, "dynoherd_heroku_ratelimit_remaining 4321"));
  CHECK(Has(text, "dynoherd_router_lines_total{result=\"parsed\"} 10"));
  CHECK(Has(text, "dynoherd_router_lines_total{result=\"malformed\"} 0"));
  CHECK(Has(text, "dynoherd_spec_reload_errors_total 1"));
}

TEST_CASE("a failed pass counts but does not move the last-success timestamp") {
  Metrics m("1");
  m.RecordPass("p", true, 0.1, TimePoint{} + 100s);
  m.RecordPass("p", false, 0.1, TimePoint{} + 200s);
  std::string text = m.Serialize();
  CHECK(Has(text, "dynoherd_reconcile_total{policy=\"p\",result=\"error\"} 1"));
  CHECK(Has(text, "dynoherd_last_reconcile_timestamp_seconds{policy=\"p\"} 100"));
}

TEST_CASE("series of dynos that are gone are removed") {
  Metrics m("1");
  FormationSample s = WebSample();
  m.RecordFormation(s);
  CHECK(Has(m.Serialize(), "dyno=\"web.2\""));
  s.dynos.pop_back();
  m.RecordFormation(s);
  std::string text = m.Serialize();
  CHECK_FALSE(Has(text, "dyno=\"web.2\""));
  CHECK(Has(text, "dyno=\"web.1\""));
}

TEST_CASE("unknown latency removes the formation latency series instead of leaving it stale") {
  Metrics m("1");
  FormationSample s = WebSample();
  m.RecordFormation(s);
  s.latency_seconds.reset();
  m.RecordFormation(s);
  CHECK_FALSE(Has(m.Serialize(), "dynoherd_formation_latency_seconds{"));
}

TEST_CASE("a formation's restart and scale counters start at 0, so increase() sees the first") {
  Metrics m("1");
  m.RecordFormation(WebSample());
  std::string text = m.Serialize();
  for (const char* action : {"restart", "stop"}) {
    CHECK(Has(text, std::string("dynoherd_dyno_restarts_total{action=\"") + action +
                        "\",app=\"shop\",formation=\"web\",policy=\"shop-web\"} 0"));
  }
  for (const char* direction : {"up", "down"}) {
    CHECK(Has(text, std::string("dynoherd_scale_changes_total{app=\"shop\",direction=\"") +
                        direction + "\",formation=\"web\",policy=\"shop-web\"} 0"));
  }
  m.CountScale("shop-web", "shop", "web", "up");
  m.RecordFormation(WebSample());  // the next pass neither resets nor duplicates the counter
  text = m.Serialize();
  CHECK(Has(text,
            "dynoherd_scale_changes_total{app=\"shop\",direction=\"up\",formation=\"web\",policy="
            "\"shop-web\"} 1"));
  CHECK(Has(text,
            "dynoherd_scale_changes_total{app=\"shop\",direction=\"down\",formation=\"web\","
            "policy=\"shop-web\"} 0"));
}

TEST_CASE("the policy's interval is exported until the policy is dropped") {
  Metrics m("1");
  m.SetReconcileInterval("shop-web", 30);
  m.RecordPass("shop-web", true, 0.1, TimePoint{} + 1s);
  CHECK(Has(m.Serialize(), "dynoherd_reconcile_interval_seconds{policy=\"shop-web\"} 30"));
  m.RetainFormations("shop-web", {});
  CHECK_FALSE(Has(m.Serialize(), "dynoherd_reconcile_interval_seconds{"));
}

TEST_CASE("formations and policies dropped by a reload disappear, counters included") {
  Metrics m("1");
  FormationSample web = WebSample();
  FormationSample worker = WebSample();
  worker.formation = "worker";
  worker.dynos.clear();
  m.RecordPass("shop-web", true, 0.1, TimePoint{} + 1s);
  m.RecordFormation(web);
  m.RecordFormation(worker);
  m.CountScale("shop-web", "shop", "worker", "up");
  m.RetainFormations("shop-web", {"web"});
  std::string text = m.Serialize();
  CHECK_FALSE(Has(text, "formation=\"worker\""));
  CHECK(Has(text, "formation=\"web\""));
  m.RetainFormations("shop-web", {});
  text = m.Serialize();
  CHECK_FALSE(Has(text, "shop-web"));
  CHECK(Has(text, "dynoherd_build_info"));
}

TEST_CASE("a condition override replaces the recorded one while set, and shows it again after") {
  Metrics m("1");
  FormationSample web = WebSample();
  web.conditions.push_back({"Degraded", "False"});
  m.RecordFormation(web);
  const std::string web_degraded =
      "dynoherd_condition{app=\"shop\",formation=\"web\",policy=\"shop-web\",status=";
  const std::string worker_degraded =
      "dynoherd_condition{app=\"shop\",formation=\"worker\",policy=\"shop-web\",status=";
  CHECK(Has(m.Serialize(), web_degraded + "\"False\",type=\"Degraded\"} 1"));

  m.OverrideCondition("shop-web", "shop", {"web", "worker"}, {"Degraded", "True"});
  std::string text = m.Serialize();
  CHECK(Has(text, web_degraded + "\"True\",type=\"Degraded\"} 1"));
  CHECK(Has(text, web_degraded + "\"False\",type=\"Degraded\"} 0"));
  CHECK(Has(text, "dynoherd_formation_quantity{app=\"shop\",formation=\"web\""));
  // worker was never recorded: its forced condition alone, no quantity made up.
  CHECK(Has(text, worker_degraded + "\"True\",type=\"Degraded\"} 1"));
  CHECK_FALSE(Has(text, "dynoherd_formation_quantity{app=\"shop\",formation=\"worker\""));
  // A pass recorded meanwhile (one in flight when the store went away) keeps the override.
  m.RecordFormation(web);
  CHECK(Has(m.Serialize(), web_degraded + "\"True\",type=\"Degraded\"} 1"));

  // A reload took worker out of the policy: its forced series go with it.
  m.OverrideCondition("shop-web", "shop", {"web"}, {"Degraded", "True"});
  CHECK_FALSE(Has(m.Serialize(), "formation=\"worker\""));
  CHECK(Has(m.Serialize(), web_degraded + "\"True\",type=\"Degraded\"} 1"));

  m.ClearConditionOverride("shop-web");
  text = m.Serialize();
  CHECK(Has(text, web_degraded + "\"False\",type=\"Degraded\"} 1"));
  CHECK_FALSE(Has(text, "formation=\"worker\""));
  m.ClearConditionOverride("shop-web");  // nothing set: nothing changes
  CHECK(m.Serialize() == text);
}

TEST_CASE("Sidekiq queues are exported with a queue label; unknown latencies and gone queues not") {
  Metrics m("1");
  FormationSample s = SidekiqSample();
  m.RecordFormation(s);
  std::string text = m.Serialize();
  CHECK(Has(text,
            "dynoherd_queue_latency_seconds{app=\"shop\",formation=\"worker\",policy=\"shop-"
            "workers\",queue=\"default\"} 42.5"));
  CHECK(Has(text,
            "dynoherd_queue_size{app=\"shop\",formation=\"worker\",policy=\"shop-workers\","
            "queue=\"default\"} 17"));
  CHECK(Has(text,
            "dynoherd_queue_latency_seconds{app=\"shop\",formation=\"worker\",policy=\"shop-"
            "workers\",queue=\"mailers\"} 0"));
  CHECK(Has(text,
            "dynoherd_queue_size{app=\"shop\",formation=\"worker\",policy=\"shop-workers\","
            "queue=\"broken\"} 3"));
  CHECK_FALSE(Has(text,
                  "dynoherd_queue_latency_seconds{app=\"shop\",formation=\"worker\",policy="
                  "\"shop-workers\",queue=\"broken\"}"));
  s.queues.pop_back();
  m.RecordFormation(s);
  CHECK_FALSE(Has(m.Serialize(), "queue=\"broken\""));
}

TEST_CASE("the capacity estimate and the schedule in force go when they are no longer known") {
  Metrics m("1");
  FormationSample s = WebSample();
  s.needed_quantity = 9;
  s.utilization = 1.5;
  s.arrivals_per_second = 30;
  s.service_seconds = 0.4;
  s.bound_min = 8;
  s.schedule = "morning";
  m.RecordFormation(s);
  const std::string web = "{app=\"shop\",formation=\"web\",policy=\"shop-web\"} ";
  std::string text = m.Serialize();
  CHECK(Has(text, "dynoherd_formation_needed_quantity" + web + "9\n"));
  CHECK(Has(text, "dynoherd_formation_utilization_ratio" + web + "1.5\n"));
  CHECK(Has(text, "dynoherd_formation_arrivals_per_second" + web + "30\n"));
  CHECK(Has(text, "dynoherd_formation_service_seconds" + web + "0.4\n"));
  CHECK(Has(text,
            "dynoherd_formation_bound_quantity{app=\"shop\",bound=\"min\",formation=\"web\","
            "policy=\"shop-web\"} 8\n"));
  CHECK_FALSE(Has(text, "bound=\"max\""));
  CHECK(Has(text,
            "dynoherd_formation_schedule_info{app=\"shop\",formation=\"web\",policy=\"shop-web\","
            "schedule=\"morning\"} 1\n"));
  // The load unknown and the schedule closed: no stale estimate, no schedule.
  m.RecordFormation(WebSample());
  text = m.Serialize();
  for (const char* gone :
       {"dynoherd_formation_needed_quantity{", "dynoherd_formation_utilization_ratio{",
        "dynoherd_formation_arrivals_per_second{", "dynoherd_formation_service_seconds{",
        "dynoherd_formation_bound_quantity{", "dynoherd_formation_schedule_info{"}) {
    CHECK_MESSAGE(!Has(text, gone), gone);
  }
}

TEST_CASE("the exposition passes promtool check metrics") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    MESSAGE("promtool not installed (Debian package prometheus); skipping the promtool check");
    return;
  }
  Metrics m("0.1.0");
  m.RecordPass("shop-web", true, 0.3, TimePoint{} + 1795352400s);
  m.RecordFormation(WebSample());
  m.RecordFormation(SidekiqSample());
  m.CountRestart("shop-web", "shop", "web", "restart");
  m.CountHerokuRequest("PATCH", 200);
  m.SetHerokuRateLimitRemaining(10);
  char path[] = "/tmp/dynoherd-metrics-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path);
    out << m.Serialize();
  }
  std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  std::string output;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe))
    output += buf;
  int rc = pclose(pipe);
  std::remove(path);
  INFO(output);
  CHECK(rc == 0);
}
