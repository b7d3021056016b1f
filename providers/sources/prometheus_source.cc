#include "providers/sources/prometheus_source.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "providers/heroku/heroku_client.h"
#include "providers/sources/http_fields.h"
#include "providers/sources/router_log_common.h"
#include "spec/redis_url.h"

namespace dynoherd::providers::sources {

namespace {

using nlohmann::json;

constexpr size_t kMaxAnswerBytes = 8u << 20;

struct ParsedUrl {
  std::string base;  // scheme://host[:port][/path], no credentials, no trailing slash
  std::string host;  // host[:port]
  std::optional<std::string> user;
  std::string password;
};

// Never quotes the URL in an error: it may carry a password.
Result<ParsedUrl> ParseBaseUrl(const std::string& url) {
  ParsedUrl out;
  std::string_view rest = url;
  std::string_view scheme;
  for (std::string_view s : {"http://", "https://"}) {
    if (rest.substr(0, s.size()) == s) scheme = s;
  }
  if (scheme.empty())
    return Status::InvalidArgument("latency.url must start with http:// or https://");
  rest.remove_prefix(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument(
        "latency.url must be Prometheus' base address, without a query or fragment");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    std::optional<std::string> user = spec::PercentDecode(userinfo.substr(0, colon));
    std::optional<std::string> password = spec::PercentDecode(
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1));
    if (!user || !password) {
      return Status::InvalidArgument(
          "latency.url: the user or password is not percent-encoded properly");
    }
    if (user->find(':') != std::string::npos) {
      return Status::InvalidArgument("latency.url: a basic auth user name cannot contain ':'");
    }
    out.user = std::move(*user);
    out.password = std::move(*password);
  }
  if (authority.empty()) return Status::InvalidArgument("latency.url has no host");
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  out.host = std::string(authority);
  out.base = std::string(scheme) + out.host + std::string(path);
  return out;
}

// A sample's value: [<unix time>, "<number>"], the number as Prometheus writes it ("0.25",
// "NaN", "+Inf").
Result<double> SampleValue(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) {
    return Status::InvalidArgument("a sample's value is not [time, \"number\"]");
  }
  const std::string text = pair[1].get<std::string>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    return Status::InvalidArgument("a sample's value \"" + text.substr(0, 32) +
                                   "\" is not a number");
  }
  return v;
}

// Why a value cannot be a latency; empty when it can.
std::string Unusable(double v) {
  if (std::isnan(v)) return "NaN (no requests in the query's range?)";
  if (std::isinf(v)) return "infinite (a histogram quantile beyond the highest bucket?)";
  if (v < 0) return "negative";
  return "";
}

std::string Listing(const std::vector<std::string>& names, size_t at_most = 3) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < at_most; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > at_most) out += ", ...";
  return out;
}

// "bad_data: parse error at char 5" from an error answer; nullopt when the body is not one.
std::optional<std::string> ErrorOf(const json& answer) {
  if (!answer.is_object() || answer.value("status", "") != "error") return std::nullopt;
  return answer.value("errorType", "error") + ": " + answer.value("error", "(no message)");
}

std::string UnixTime(TimePoint t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ToUnixSeconds(t));
  return buf;
}

// The formation value of a scalar, or of a vector's one sample without a dyno label.
Result<model::FormationLatency> OneValue(const Result<double>& v) {
  if (!v.ok()) return v.status();
  if (std::string why = Unusable(*v); !why.empty()) {
    return Status::InvalidArgument("the query's value is " + why);
  }
  model::FormationLatency latency;
  latency.value = *v;
  return latency;
}

// Per-dyno values from samples labelled with dyno names: those of the formation's `dynos` that
// are usable; the formation value is their mean.
Result<model::FormationLatency> PerDyno(const std::vector<std::pair<std::string, double>>& labelled,
                                        const std::string& dyno_label,
                                        const std::vector<std::string>& dynos) {
  if (dynos.empty()) return Status::NotFound("the app lists no dynos of this formation");
  const std::set<std::string> listed(dynos.begin(), dynos.end());
  std::set<std::string> seen;
  std::vector<std::string> strangers;
  std::vector<std::string> unusable;
  model::FormationLatency latency;
  double sum = 0;
  for (const auto& [dyno, v] : labelled) {
    if (!seen.insert(dyno).second) {
      return Status::InvalidArgument("the query returned several samples for " + dyno_label +
                                     "=\"" + dyno.substr(0, 64) + "\": aggregate them by " +
                                     dyno_label);
    }
    if (!listed.count(dyno)) {
      strangers.push_back(dyno.substr(0, 64));
      continue;
    }
    if (!Unusable(v).empty()) {
      unusable.push_back(dyno);
      continue;
    }
    model::LatencyStats stats;
    stats.count = 1;
    stats.mean = stats.p50 = stats.p95 = stats.p99 = stats.max = v;
    latency.per_dyno[dyno] = stats;
    sum += v;
  }
  if (latency.per_dyno.empty()) {
    if (!unusable.empty()) {
      return Status::NotFound("no usable value: " + Listing(unusable) +
                              " gave NaN, infinite or negative values (no requests in the "
                              "query's range?)");
    }
    return Status::NotFound("none of the query's " + dyno_label + " labels (" + Listing(strangers) +
                            ") names one of the formation's dynos (" + Listing(dynos) + ")");
  }
  latency.value = sum / static_cast<double>(latency.per_dyno.size());
  return latency;
}

// An instant vector: one unlabelled sample (the formation's value), or one sample per dyno.
Result<model::FormationLatency> FromVector(const json& result, const std::string& dyno_label,
                                           const std::vector<std::string>& dynos) {
  if (result.empty()) {
    return Status::NotFound("the query returned no samples (no series match, or none has data)");
  }
  std::vector<std::pair<std::string, double>> labelled;
  size_t unlabelled = 0;
  for (const json& sample : result) {
    if (!sample.is_object() || !sample.contains("value")) {
      return Status::InvalidArgument("a sample has no value");
    }
    Result<double> v = SampleValue(sample["value"]);
    if (!v.ok()) return v.status();
    const json* metric = sample.contains("metric") ? &sample["metric"] : nullptr;
    if (metric != nullptr && metric->is_object() && metric->contains(dyno_label) &&
        (*metric)[dyno_label].is_string()) {
      labelled.emplace_back((*metric)[dyno_label].get<std::string>(), *v);
    } else {
      ++unlabelled;
    }
  }
  if (labelled.empty()) {
    if (result.size() > 1) {
      return Status::InvalidArgument("the query returned " + std::to_string(result.size()) +
                                     " samples without the label \"" + dyno_label +
                                     "\": aggregate them by " + dyno_label + ", or into one value");
    }
    return OneValue(SampleValue(result[0]["value"]));
  }
  if (unlabelled > 0) {
    return Status::InvalidArgument(std::to_string(unlabelled) + " of the query's " +
                                   std::to_string(result.size()) + " samples lack the label \"" +
                                   dyno_label + "\"");
  }
  return PerDyno(labelled, dyno_label, dynos);
}

}  // namespace

Result<model::FormationLatency> ParsePrometheusAnswer(std::string_view body,
                                                      const std::string& dyno_label,
                                                      const std::vector<std::string>& dynos) {
  const json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) {
    return Status::InvalidArgument("the answer is not a Prometheus API JSON object");
  }
  if (std::optional<std::string> error = ErrorOf(answer)) return Status::InvalidArgument(*error);
  const std::string status = answer.value("status", "");
  if (status != "success") {
    return Status::InvalidArgument("the answer's status is \"" + status.substr(0, 32) + "\"");
  }
  const json* data = answer.contains("data") ? &answer["data"] : nullptr;
  if (data == nullptr || !data->is_object() || !data->contains("result")) {
    return Status::InvalidArgument("the answer has no data.result");
  }
  const std::string type = data->value("resultType", "");
  const json& result = (*data)["result"];
  if (type == "scalar") return OneValue(SampleValue(result));
  if (type == "matrix") {
    return Status::InvalidArgument(
        "the query returns a range vector; give an instant vector (drop the [range], or wrap it "
        "in an _over_time function)");
  }
  if (type != "vector" || !result.is_array()) {
    return Status::InvalidArgument("the query returns a " + (type.empty() ? "result" : type) +
                                   ", not a vector or scalar");
  }
  return FromVector(result, dyno_label, dynos);
}

Result<std::unique_ptr<PrometheusSource>> PrometheusSource::Create(
    const std::vector<const spec::FormationSpec*>& formations, PrometheusOptions options,
    Logger& logger) {
  std::map<std::string, Endpoint> endpoints;
  for (const auto* f : formations) {
    if (!f->latency) continue;
    Result<ParsedUrl> url = ParseBaseUrl(f->latency->url);
    if (!url.ok()) return url.status().WithContext("formation " + f->type);
    Endpoint endpoint;
    endpoint.query_url = url->base + "/api/v1/query";
    endpoint.host = url->host;
    if (url->user) {
      endpoint.authorization = BasicAuthorization(*url->user, url->password);
    } else if (options.bearer_token && !options.bearer_token->empty()) {
      endpoint.authorization = "Bearer " + *options.bearer_token;
    }
    endpoints[f->type] = std::move(endpoint);
  }
  if (options.transport.user_agent.empty()) {
    options.transport.user_agent = std::string("dynoherd/") + DYNOHERD_VERSION;
  }
  if (options.transport.max_body_bytes > kMaxAnswerBytes) {
    options.transport.max_body_bytes = kMaxAnswerBytes;
  }
  return std::unique_ptr<PrometheusSource>(
      new PrometheusSource(std::move(endpoints), std::move(options), logger));
}

PrometheusSource::PrometheusSource(std::map<std::string, Endpoint> endpoints,
                                   PrometheusOptions options, Logger& logger)
    : endpoints_(std::move(endpoints)),
      options_(std::move(options)),
      transport_(options_.transport),
      logger_(logger) {}

std::map<std::string, model::FormationLatency> PrometheusSource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    TimePoint now) {
  std::map<std::string, model::FormationLatency> out;
  for (const auto* f : formations) {
    if (!f->latency) continue;
    auto endpoint = endpoints_.find(f->type);
    if (endpoint == endpoints_.end()) {
      out[f->type].unknown_reason = "no Prometheus endpoint was set up for this formation";
      continue;
    }
    out[f->type] = Query(*f, endpoint->second, DynosOf(app, f->type), now);
  }
  return out;
}

model::FormationLatency PrometheusSource::Query(const spec::FormationSpec& formation,
                                                const Endpoint& endpoint,
                                                const std::vector<std::string>& dynos,
                                                TimePoint now) {
  const spec::LatencySpec& spec = *formation.latency;
  HttpRequest request;
  request.url = endpoint.query_url + "?query=" + heroku::EscapePathSegment(spec.query) +
                "&time=" + UnixTime(now);
  request.headers = {{"Accept", "application/json"}};
  if (!endpoint.authorization.empty()) {
    request.headers.emplace_back("Authorization", endpoint.authorization);
  }
  const std::string where = "prometheus at " + endpoint.host;
  model::FormationLatency unknown;
  HttpResult result = transport_.Send(request);
  if (!result.ok()) {
    unknown.unknown_reason = unknown.error = "prometheus query failed: " + result.status.message();
    return unknown;
  }
  const int status = result.response.status;
  if (status < 200 || status > 299) {
    std::string detail = where + " answered " + std::to_string(status);
    if (status >= 300 && status < 400) {
      detail += " (redirects are not followed: put the final address in latency.url)";
    } else if (status == 401 || status == 403) {
      detail += " (check the user and password in latency.url, or DYNOHERD_PROMETHEUS_TOKEN)";
    } else if (std::optional<std::string> error =
                   ErrorOf(json::parse(result.response.body, nullptr, false))) {
      detail += ": " + *error;
    }
    unknown.unknown_reason = unknown.error = detail;
    return unknown;
  }
  Result<model::FormationLatency> latency =
      ParsePrometheusAnswer(result.response.body, spec.dyno_label, dynos);
  if (!latency.ok()) {
    unknown.unknown_reason = where + ": " + latency.status().message();
    // No sample or no usable value is a quiet formation; anything else is an answer that cannot
    // be read, a query that cannot work.
    if (latency.status().code() != Status::Code::kNotFound) unknown.error = unknown.unknown_reason;
    return unknown;
  }
  logger_.Debug("prometheus query answered",
                {{"formation", formation.type},
                 {"host", endpoint.host},
                 {"dynos", static_cast<int64_t>(latency->per_dyno.size())},
                 {"value", latency->value.value_or(0)}});
  return std::move(latency).value();
}

}  // namespace dynoherd::providers::sources
