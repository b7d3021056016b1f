// `latency.source: prometheus`: an instant query (GET {url}/api/v1/query) per formation at every
// pass, over the generic HTTP transport (timeouts, TLS verified, redirects never followed).
//
// Credentials: a user and password in the URL (https://user:pass@host) are taken out of it and
// sent as basic auth; otherwise DYNOHERD_PROMETHEUS_TOKEN, when set, is sent as a bearer token.
// Neither ever appears in a log line, an error or a metric: messages name the host only.
//
// What the answer means (docs/latency.md):
//  - a vector whose samples carry `dynoLabel`: one value per dyno, in seconds. Each becomes that
//    dyno's LatencyStats with every statistic equal to the value (the query decides what it
//    measures) and count 1 (one value, not a number of requests: laggards judge these dynos only
//    with minSamples: 1). The formation's value is the mean of the dynos' values.
//  - a scalar, or a vector of one sample without the label: the formation's value only.
//  - NaN or infinite values, errors, non-2xx answers and empty results: latency unknown, and why.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "providers/http_transport.h"
#include "providers/latency_source.h"

namespace dynoherd::providers::sources {

struct PrometheusOptions {
  TransportOptions transport;               // timeouts and the body limit of one query
  std::optional<std::string> bearer_token;  // DYNOHERD_PROMETHEUS_TOKEN
};

class PrometheusSource final : public LatencySource {
 public:
  // Checks every formation's latency.url (http or https, no query or fragment) and takes the
  // credentials out of it. `logger` outlives the source.
  static Result<std::unique_ptr<PrometheusSource>> Create(
      const std::vector<const spec::FormationSpec*>& formations, PrometheusOptions options,
      Logger& logger);

  // One query per formation, evaluated at `now`.
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  struct Endpoint {
    std::string query_url;      // {url without credentials}/api/v1/query
    std::string host;           // for messages
    std::string authorization;  // the Authorization header; empty: none
  };
  PrometheusSource(std::map<std::string, Endpoint> endpoints, PrometheusOptions options,
                   Logger& logger);
  model::FormationLatency Query(const spec::FormationSpec& formation, const Endpoint& endpoint,
                                const std::vector<std::string>& dynos, TimePoint now);

  std::map<std::string, Endpoint> endpoints_;  // by formation type
  PrometheusOptions options_;
  HttpTransport transport_;
  Logger& logger_;
};

// The latency in a query's JSON answer (exposed for tests): per-dyno values for the dynos in
// `dynos` (samples labelled with other names are left out), or the formation's value alone.
// Errors say what is wrong with the answer.
Result<model::FormationLatency> ParsePrometheusAnswer(std::string_view body,
                                                      const std::string& dyno_label,
                                                      const std::vector<std::string>& dynos);

}  // namespace dynoherd::providers::sources
