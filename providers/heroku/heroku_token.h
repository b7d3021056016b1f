// Where dynoherd finds its Heroku API token and API URL. The environment (HOME included) is
// injected so tests control it.
#pragma once

#include <string>

#include "common/env.h"
#include "common/status.h"

namespace dynoherd::providers::heroku {

using dynoherd::EnvLookup;
using dynoherd::ProcessEnvironment;

struct HerokuToken {
  std::string value;   // the secret: never log it
  std::string source;  // "HEROKU_API_KEY" or "/home/me/.netrc": safe to show
};

// HEROKU_API_KEY when set and not empty, else the password of `machine api.heroku.com` in
// $HOME/.netrc (where `heroku login` stores it). Surrounding whitespace is trimmed. Fails with a
// message naming both ways to provide a token, and never quoting one. A .netrc that others may
// read or write, that is not a regular file, or larger than 64 KiB is refused, saying why.
Result<HerokuToken> ResolveHerokuToken(const EnvLookup& env);

inline constexpr const char* kDefaultHerokuApiUrl = "https://api.heroku.com";

// HEROKU_API_URL, or https://api.heroku.com; without a trailing slash. Plain http is refused
// except to 127.0.0.1, [::1] or localhost, so the token never crosses a network in clear text.
Result<std::string> ResolveHerokuApiUrl(const EnvLookup& env);
Status ValidateHerokuApiUrl(const std::string& url);

}  // namespace dynoherd::providers::heroku
