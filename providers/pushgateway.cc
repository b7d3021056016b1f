#include "providers/pushgateway.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

#include "providers/http_transport.h"

namespace dynoherd::providers {

namespace {

// The parts of a URL libcurl parses; absent parts are empty.
struct UrlParts {
  bool parsed = false;
  std::string scheme, host, path, query, fragment, password;
};

std::string Part(CURLU* u, CURLUPart part) {
  char* value = nullptr;
  std::string out;
  if (curl_url_get(u, part, &value, 0) == CURLUE_OK && value != nullptr) out = value;
  curl_free(value);
  return out;
}

UrlParts Parse(const std::string& url) {
  UrlParts parts;
  CURLU* u = curl_url();
  if (u == nullptr) return parts;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    parts.parsed = true;
    parts.scheme = Part(u, CURLUPART_SCHEME);
    parts.host = Part(u, CURLUPART_HOST);
    parts.path = Part(u, CURLUPART_PATH);
    parts.query = Part(u, CURLUPART_QUERY);
    parts.fragment = Part(u, CURLUPART_FRAGMENT);
    parts.password = Part(u, CURLUPART_PASSWORD);
  }
  curl_url_cleanup(u);
  return parts;
}

// The first line of a gateway's error body, shortened: enough to say what it refused.
std::string FirstLine(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

}  // namespace

Status ValidatePushgatewayUrl(const std::string& url) {
  UrlParts parts = Parse(url);
  const std::string usage =
      " (expected http(s)://host[:port][/path], e.g. http://pushgateway:9091)";
  if (!parts.parsed || parts.host.empty()) {
    return Status::InvalidArgument("--pushgateway: not a URL" + usage);
  }
  if (parts.scheme != "http" && parts.scheme != "https") {
    return Status::InvalidArgument("--pushgateway: scheme " + parts.scheme + " is not supported" +
                                   usage);
  }
  if (!parts.query.empty() || !parts.fragment.empty()) {
    return Status::InvalidArgument("--pushgateway: a query or fragment cannot be used" + usage);
  }
  return Status::Ok();
}

std::string PushgatewayPassword(const std::string& url) {
  return Parse(url).password;
}

Status ValidatePushgatewayInstance(const std::string& instance) {
  const bool ok = std::all_of(instance.begin(), instance.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
  });
  if (!ok) {
    return Status::InvalidArgument("--pushgateway-instance \"" + instance +
                                   "\": use letters, digits, '.', '_', '-' and ':' only");
  }
  return Status::Ok();
}

Status PushMetrics(const PushgatewayTarget& target, const std::string& exposition) {
  if (Status s = ValidatePushgatewayUrl(target.url); !s.ok()) return s;
  std::string url = target.url;
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  url += "/metrics/job/" + target.job;
  if (!target.instance.empty()) url += "/instance/" + target.instance;

  TransportOptions options;
  options.connect_timeout = std::min<Duration>(5s, target.timeout);
  options.total_timeout = target.timeout;
  options.user_agent = std::string("dynoherd/") + DYNOHERD_VERSION;
  HttpTransport transport(options);
  HttpResult result = transport.Send({.method = "PUT",
                                      .url = url,
                                      .headers = {{"Content-Type", "text/plain; version=0.0.4"}},
                                      .body = exposition});
  const std::string gateway = "the Pushgateway " + HostOfUrl(target.url);
  if (!result.ok()) return result.status.WithContext("push metrics to " + gateway);
  const int code = result.response.status;
  if (code >= 200 && code < 300) return Status::Ok();
  std::string message = "push metrics to " + gateway + ": HTTP " + std::to_string(code);
  if (const std::string line = FirstLine(result.response.body); !line.empty()) {
    message += ": " + line;
  }
  return Status::Unavailable(message);
}

}  // namespace dynoherd::providers
