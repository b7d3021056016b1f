// Where a Redis is and how to log in: parsed from the URLs Redis clients and Heroku use,
//   redis://[user[:password]@]host[:port][/db]     plain TCP
//   rediss://[user[:password]@]host[:port][/db]    TLS
// Heroku's Key-Value Store sets REDIS_URL as rediss://:<password>@<host>:<port> (an empty user).
// It lives in spec/ because it is the grammar of `latency.url` with `source: sidekiq`: the loader
// checks a URL with the very parser the connection (providers/redis/) uses, so `validate` refuses
// what a connect would.
//
// The password is a secret: it is kept only in RedisEndpoint::password, and neither errors nor
// Redacted() ever contain it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dynoherd::spec {

inline constexpr int kDefaultRedisPort = 6379;

struct RedisEndpoint {
  bool tls = false;  // rediss://
  std::string host;  // a name or an IP address; IPv6 without its brackets ("::1")
  int port = kDefaultRedisPort;
  std::string username;  // percent-decoded; empty: AUTH with the password alone (the default user)
  std::string password;  // percent-decoded; empty: no AUTH
  int database = 0;      // SELECTed on connect when not 0

  // "127.0.0.1:6379", "[::1]:6379": names the server in every error.
  std::string HostPort() const;
  // The URL with the password replaced by "***", for logs and status pages.
  std::string Redacted() const;
};

// Parses a redis:// or rediss:// URL. Errors say which part is wrong and quote the URL with its
// password masked. Query strings and fragments are refused rather than ignored: clients disagree on
// what they mean, and silently dropping e.g. a TLS option would be worse than an error.
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

// The %XX escapes of a URL's user or password decoded (every latency.url's: the Prometheus source
// uses it too); nullopt for a '%' not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view text);

}  // namespace dynoherd::spec
