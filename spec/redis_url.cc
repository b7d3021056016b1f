#include "spec/redis_url.h"

#include <arpa/inet.h>

#include <charconv>
#include <optional>

namespace dynoherd::spec {
namespace {

// The credentials end at the last '@': passwords are often pasted without percent-encoding, and a
// '@', '/' or '?' in them must neither split the URL elsewhere nor escape the masking below.
struct UrlParts {
  std::string_view scheme;
  std::optional<std::string_view> userinfo;
  std::string_view rest;  // host, port, path and anything after
};

UrlParts SplitUrl(std::string_view url) {
  UrlParts parts;
  size_t start = 0;
  if (size_t sep = url.find("://"); sep != std::string_view::npos) {
    parts.scheme = url.substr(0, sep);
    start = sep + 3;
  }
  size_t at = url.rfind('@');
  if (at != std::string_view::npos && at >= start) {
    parts.userinfo = url.substr(start, at - start);
    start = at + 1;
  }
  parts.rest = url.substr(start);
  return parts;
}

// The URL as errors quote it: whatever could be a password becomes "***".
std::string MaskedUrl(std::string_view url) {
  UrlParts parts = SplitUrl(url);
  if (!parts.userinfo) return std::string(url);
  std::string out = parts.scheme.empty() ? "" : std::string(parts.scheme) + "://";
  size_t colon = parts.userinfo->find(':');
  // Without a ':' the lone field may well be a password typed in the wrong place.
  out += colon == std::string_view::npos ? "***"
                                         : std::string(parts.userinfo->substr(0, colon)) + ":***";
  return out + "@" + std::string(parts.rest);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

std::optional<int> ParseBoundedInt(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::string RedisEndpoint::HostPort() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string RedisEndpoint::Redacted() const {
  std::string out = tls ? "rediss://" : "redis://";
  if (!password.empty()) out += username + ":***@";
  out += HostPort();
  // '/', not "/": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
  if (database != 0) out += '/' + std::to_string(database);
  return out;
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument("Redis URL \"" + MaskedUrl(url) + "\": " + what);
  };
  const UrlParts parts = SplitUrl(url);
  RedisEndpoint endpoint;
  if (parts.scheme == "redis") {
    endpoint.tls = false;
  } else if (parts.scheme == "rediss") {
    endpoint.tls = true;
  } else if (url.find("://") == std::string_view::npos) {
    // Not quoted: without a scheme, nothing says which part could be a password.
    return Status::InvalidArgument("Redis URL: must start with redis:// or rediss:// (TLS)");
  } else {
    return error("must start with redis:// or rediss:// (TLS)");
  }

  if (parts.userinfo) {
    size_t colon = parts.userinfo->find(':');
    if (colon == std::string_view::npos) {
      if (!parts.userinfo->empty()) {
        return error(
            "a user name needs a password: redis://user:password@host, or "
            "redis://:password@host for the default user");
      }
    } else {
      std::optional<std::string> user = PercentDecode(parts.userinfo->substr(0, colon));
      if (!user) return error("the user name has an invalid percent-escape (%XX)");
      std::optional<std::string> password = PercentDecode(parts.userinfo->substr(colon + 1));
      if (!password) return error("the password has an invalid percent-escape (%XX)");
      if (password->empty() && !user->empty()) {
        return error("the user \"" + *user + "\" has an empty password");
      }
      endpoint.username = std::move(*user);
      endpoint.password = std::move(*password);
    }
  }

  std::string_view rest = parts.rest;
  if (size_t extra = rest.find_first_of("?#"); extra != std::string_view::npos) {
    return error("query strings and fragments (\"" + std::string(rest.substr(extra, 1)) +
                 "...\") are not supported; TLS verification and the CA file are options of "
                 "their own");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);

  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return error("an IPv6 address lacks its closing ']'");
    endpoint.host = std::string(authority.substr(1, close - 1));
    in6_addr ignored;
    if (::inet_pton(AF_INET6, endpoint.host.c_str(), &ignored) != 1) {
      return error("\"" + endpoint.host + "\" is not an IPv6 address");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return error("expected ':port' after the IPv6 address");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = authority.find(':');
    endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
      if (port_text.find(':') != std::string_view::npos) {
        return error("an IPv6 address needs brackets: redis://[::1]:6379");
      }
    }
    if (endpoint.host.empty()) return error("no host");
    for (char c : endpoint.host) {
      if (!IsHostNameChar(c)) return error("the host \"" + endpoint.host + "\" is not a host name");
    }
  }
  if (has_port) {
    std::optional<int> port = ParseBoundedInt(port_text, 1, 65535);
    if (!port)
      return error("port \"" + std::string(port_text) + "\" must be a number from 1 to 65535");
    endpoint.port = *port;
  }

  if (path.size() > 1) {
    std::optional<int> db = ParseBoundedInt(path.substr(1), 0, 1 << 20);
    if (!db) {
      return error("the path \"" + std::string(path) +
                   "\" must be a database number (redis://host:6379/2 selects database 2)");
    }
    endpoint.database = *db;
  }
  return endpoint;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = HexValue(text[i + 1]);
    int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

}  // namespace dynoherd::spec
