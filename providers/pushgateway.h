// Pushing a one-shot run's metrics to a Prometheus Pushgateway (`reconcile --pushgateway URL`).
//
// Pushes go through HttpTransport rather than prometheus-cpp's Gateway: the Gateway of
// prometheus-cpp 1.0 sets no timeout, so a gateway that never answers would hold a cron job for
// as long as the network lets it; here the whole push is bounded by `timeout`.
#pragma once

#include <string>

#include "common/status.h"
#include "common/time.h"

namespace dynoherd::providers {

using namespace std::chrono_literals;

struct PushgatewayTarget {
  std::string url{};  // http(s)://[user:password@]host[:port][/path prefix]
  std::string job = "dynoherd";
  std::string instance{};  // empty: the grouping key is the job alone
  Duration timeout = 10s;
};

// Checks a --pushgateway URL: http or https, a host, no query or fragment. Messages never quote a
// password given in the URL.
Status ValidatePushgatewayUrl(const std::string& url);
// The password of a URL's user info ("" when none), so that the caller can redact it.
std::string PushgatewayPassword(const std::string& url);
// A grouping-key label value the URL path can carry as is: letters, digits, . _ - and :.
Status ValidatePushgatewayInstance(const std::string& instance);

// PUTs `exposition` (Prometheus text format 0.0.4) to URL/metrics/job/JOB[/instance/INSTANCE],
// replacing every metric pushed before under that grouping key, so series of dynos that are gone
// go with them. Errors name the host, the HTTP status and the gateway's message.
Status PushMetrics(const PushgatewayTarget& target, const std::string& exposition);

}  // namespace dynoherd::providers
