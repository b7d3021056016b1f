#include "providers/heroku/heroku_token.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "providers/http_transport.h"

namespace dynoherd::providers::heroku {
namespace {

constexpr const char* kHerokuApiHost = "api.heroku.com";

std::string Trim(const std::string& s) {
  const char* kSpace = " \t\r\n";
  const size_t start = s.find_first_not_of(kSpace);
  if (start == std::string::npos) return "";
  return s.substr(start, s.find_last_not_of(kSpace) - start + 1);
}

// A token goes into an HTTP header: whitespace or control characters would corrupt the request.
Status CheckTokenCharacters(const std::string& token, const std::string& source) {
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return Status::InvalidArgument("the Heroku API token from " + source +
                                     " contains whitespace or control characters; copy it again "
                                     "(`heroku auth:token` prints it)");
    }
  }
  return Status::Ok();
}

// The whitespace-separated words of a .netrc file, without comments; "quoted words" allowed.
std::vector<std::string> NetrcWords(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '"') {
      std::string word;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        word += text[i];
      }
      ++i;
      words.push_back(word);
    } else {
      const size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
             text[i] != '\n') {
        ++i;
      }
      words.push_back(text.substr(start, i - start));
    }
  }
  return words;
}

struct NetrcEntry {
  bool found = false;
  std::string password;
};

NetrcEntry FindNetrcMachine(const std::string& text, const std::string& machine) {
  const std::vector<std::string> words = NetrcWords(text);
  NetrcEntry entry;
  bool in_machine = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "machine" || w == "default") {
      if (in_machine) break;  // our entry ended
      in_machine = w == "machine" && i + 1 < words.size() && words[i + 1] == machine;
      if (w == "machine") ++i;
      entry.found = entry.found || in_machine;
    } else if (w == "macdef") {
      break;  // macros run to the end of a paragraph; nothing after them concerns us
    } else if ((w == "password" || w == "login" || w == "account") && i + 1 < words.size()) {
      if (in_machine && w == "password") entry.password = words[i + 1];
      ++i;
    }
  }
  return entry;
}

bool IsLoopbackHost(const std::string& host_and_port) {
  std::string host = host_and_port;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// ~/.netrc, read as curl and ssh treat files that hold secrets: a regular file (a symlink to one
// is fine; to /dev/zero it is not), of a sane size, that nobody but its owner can read. nullopt:
// there is none.
constexpr off_t kMaxNetrcBytes = 64 * 1024;

Result<std::optional<std::string>> ReadNetrc(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Status::PermissionDenied("cannot read " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + " is not a regular file; it was not read");
  }
  if (st.st_size > kMaxNetrcBytes) {
    return Status::InvalidArgument(path + " is larger than " + std::to_string(kMaxNetrcBytes) +
                                   " bytes; it was not read");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied(
        path + " holds the Heroku API token and is open to other users (mode " + mode +
        "); run `chmod 600 " + path + "`, or set HEROKU_API_KEY");
  }
  std::ifstream in(path);
  if (!in) return Status::PermissionDenied("cannot read " + path);
  std::string text(static_cast<size_t>(kMaxNetrcBytes) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > static_cast<size_t>(kMaxNetrcBytes)) {
    return Status::InvalidArgument(path + " grew past " + std::to_string(kMaxNetrcBytes) +
                                   " bytes while read; it was not used");
  }
  return std::optional<std::string>(std::move(text));
}

}  // namespace

Result<HerokuToken> ResolveHerokuToken(const EnvLookup& env) {
  if (std::optional<std::string> key = env("HEROKU_API_KEY"); key && !Trim(*key).empty()) {
    HerokuToken token{Trim(*key), "HEROKU_API_KEY"};
    if (Status s = CheckTokenCharacters(token.value, token.source); !s.ok()) return s;
    return token;
  }
  const std::string how =
      "set HEROKU_API_KEY (e.g. HEROKU_API_KEY=$(heroku auth:token)), or run `heroku login`, which "
      "stores one in ~/.netrc under machine api.heroku.com";
  std::optional<std::string> home = env("HOME");
  if (!home || home->empty()) {
    return Status::Unauthenticated("no Heroku API token: " + how +
                                   " (HOME is not set, so no ~/.netrc was read)");
  }
  const std::string path = *home + "/.netrc";
  Result<std::optional<std::string>> text = ReadNetrc(path);
  if (!text.ok()) return text.status();
  if (!*text) return Status::Unauthenticated("no Heroku API token: " + how + " (no " + path + ")");
  NetrcEntry entry = FindNetrcMachine(**text, kHerokuApiHost);
  if (!entry.found) {
    return Status::Unauthenticated("no Heroku API token: " + how + " (" + path +
                                   " has no machine api.heroku.com)");
  }
  if (entry.password.empty()) {
    return Status::Unauthenticated(
        "no Heroku API token: the api.heroku.com entry of " + path +
        " has no password; run `heroku login` again, or set HEROKU_API_KEY");
  }
  HerokuToken token{entry.password, path};
  if (Status s = CheckTokenCharacters(token.value, token.source); !s.ok()) return s;
  return token;
}

Status ValidateHerokuApiUrl(const std::string& url) {
  const std::string host = HostOfUrl(url);
  const bool https = url.rfind("https://", 0) == 0;
  const bool http = url.rfind("http://", 0) == 0;
  if (host.empty() || (!https && !http)) {
    // Not quoted back: a URL may carry credentials.
    return Status::InvalidArgument("HEROKU_API_URL is not an http or https URL");
  }
  if (http && !IsLoopbackHost(host)) {
    return Status::InvalidArgument(
        "HEROKU_API_URL must use https (plain http is allowed only to "
        "127.0.0.1 or localhost): the API token would travel in clear text");
  }
  return Status::Ok();
}

Result<std::string> ResolveHerokuApiUrl(const EnvLookup& env) {
  std::string url = env("HEROKU_API_URL").value_or("");
  url = Trim(url);
  if (url.empty()) url = kDefaultHerokuApiUrl;
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  if (Status s = ValidateHerokuApiUrl(url); !s.ok()) return s;
  return url;
}

}  // namespace dynoherd::providers::heroku
