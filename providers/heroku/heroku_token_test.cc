#include "providers/heroku/heroku_token.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "providers/heroku/heroku_client.h"

using namespace dynoherd;
using namespace dynoherd::providers::heroku;

namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A throwaway HOME with an optional .netrc.
struct TempHome {
  std::string dir;
  explicit TempHome(const std::string& netrc = "", bool write = true) {
    char tmpl[] = "/tmp/dynoherd-home-XXXXXX";
    dir = mkdtemp(tmpl);
    if (write) {
      std::ofstream(dir + "/.netrc") << netrc;
      chmod((dir + "/.netrc").c_str(), 0600);  // as `heroku login` leaves it
    }
  }
  ~TempHome() {
    std::remove((dir + "/.netrc").c_str());
    rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("HEROKU_API_KEY comes first, trimmed") {
  TempHome home("machine api.heroku.com login a@b.c password FROM-NETRC\n");
  auto token =
      ResolveHerokuToken(FakeEnv({{"HEROKU_API_KEY", " HRKU-env \n"}, {"HOME", home.dir}}));
  REQUIRE(token.ok());
  CHECK(token->value == "HRKU-env");
  CHECK(token->source == "HEROKU_API_KEY");
}

TEST_CASE("~/.netrc's api.heroku.com entry is used when HEROKU_API_KEY is unset or empty") {
  TempHome home(
      "# written by heroku login\n"
      "machine git.heroku.com\n  login a@b.c\n  password GIT-TOKEN\n"
      "machine api.heroku.com\n  login a@b.c\n  password 01234567-89ab-cdef-0123-456789abcdef\n"
      "default login x password DEFAULT\n");
  for (auto env :
       {FakeEnv({{"HOME", home.dir}}), FakeEnv({{"HOME", home.dir}, {"HEROKU_API_KEY", ""}})}) {
    auto token = ResolveHerokuToken(env);
    REQUIRE_MESSAGE(token.ok(), token.status().message());
    CHECK(token->value == "01234567-89ab-cdef-0123-456789abcdef");
    CHECK(token->source == home.dir + "/.netrc");
  }
}

TEST_CASE("a .netrc others may read, not a regular file, or too large is refused, saying why") {
  TempHome home("machine api.heroku.com login me password HRKU-secret-netrc\n");
  const std::string netrc = home.dir + "/.netrc";
  for (mode_t mode : {0640, 0604, 0620}) {
    CAPTURE(mode);
    REQUIRE(chmod(netrc.c_str(), mode) == 0);
    auto token = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Status::Code::kPermissionDenied);
    CHECK(token.status().message().find("is open to other users") != std::string::npos);
    CHECK(token.status().message().find("chmod 600 " + netrc) != std::string::npos);
    CHECK(token.status().message().find("HRKU-secret-netrc") == std::string::npos);
  }
  REQUIRE(chmod(netrc.c_str(), 0400) == 0);
  CHECK(ResolveHerokuToken(FakeEnv({{"HOME", home.dir}})).ok());

  std::remove(netrc.c_str());
  REQUIRE(symlink("/dev/zero", netrc.c_str()) == 0);  // once made `reconcile` read forever
  auto device = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
  REQUIRE_FALSE(device.ok());
  CHECK(device.status().message() == netrc + " is not a regular file; it was not read");

  std::remove(netrc.c_str());
  std::ofstream(netrc) << "machine api.heroku.com password x\n" << std::string(70000, '#');
  chmod(netrc.c_str(), 0600);
  auto large = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
  REQUIRE_FALSE(large.ok());
  CHECK(large.status().message() == netrc + " is larger than 65536 bytes; it was not read");
}

TEST_CASE("one-line netrc entries and quoted passwords work") {
  TempHome home(
      "machine api.heroku.com login me password \"HRKU-quoted\" machine other password x");
  auto token = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
  REQUIRE(token.ok());
  CHECK(token->value == "HRKU-quoted");
}

TEST_CASE("without a token, the error names both ways to provide one") {
  SUBCASE("no .netrc") {
    TempHome home("", false);
    auto token = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Status::Code::kUnauthenticated);
    CHECK(token.status().message().find("set HEROKU_API_KEY") != std::string::npos);
    CHECK(token.status().message().find("heroku login") != std::string::npos);
    CHECK(token.status().message().find("no " + home.dir + "/.netrc") != std::string::npos);
  }
  SUBCASE("a .netrc without api.heroku.com") {
    TempHome home("machine git.heroku.com login a password b\n");
    auto token = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().message().find("has no machine api.heroku.com") != std::string::npos);
    CHECK(token.status().message().find("HEROKU_API_KEY") != std::string::npos);
  }
  SUBCASE("an entry without a password") {
    TempHome home("machine api.heroku.com login a@b.c\n");
    auto token = ResolveHerokuToken(FakeEnv({{"HOME", home.dir}}));
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().message().find("has no password") != std::string::npos);
  }
  SUBCASE("no HOME") {
    auto token = ResolveHerokuToken(FakeEnv({}));
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().message().find("HOME is not set") != std::string::npos);
  }
}

TEST_CASE("a token with whitespace inside is refused without being quoted") {
  auto token = ResolveHerokuToken(FakeEnv({{"HEROKU_API_KEY", "HRKU-abc\ndef"}}));
  REQUIRE_FALSE(token.ok());
  CHECK(token.status().message().find("HRKU") == std::string::npos);
  CHECK(token.status().message().find("HEROKU_API_KEY") != std::string::npos);
}

TEST_CASE("the API URL defaults to Heroku and refuses plain http beyond this machine") {
  CHECK(ResolveHerokuApiUrl(FakeEnv({})).value() == "https://api.heroku.com");
  CHECK(ResolveHerokuApiUrl(FakeEnv({{"HEROKU_API_URL", "http://127.0.0.1:4567/"}})).value() ==
        "http://127.0.0.1:4567");
  CHECK(ResolveHerokuApiUrl(FakeEnv({{"HEROKU_API_URL", "http://localhost:1"}})).ok());
  CHECK(ResolveHerokuApiUrl(FakeEnv({{"HEROKU_API_URL", "https://proxy.corp.example"}})).ok());
  auto clear = ResolveHerokuApiUrl(FakeEnv({{"HEROKU_API_URL", "http://proxy.corp.example"}}));
  REQUIRE_FALSE(clear.ok());
  CHECK(clear.status().message().find("must use https") != std::string::npos);
  CHECK_FALSE(ResolveHerokuApiUrl(FakeEnv({{"HEROKU_API_URL", "ftp://x"}})).ok());
}

TEST_CASE("client options come from the environment, naming where the token came from") {
  TempHome home("machine api.heroku.com login me password HRKU-netrc\n");
  auto options = HerokuClientOptionsFromEnvironment(
      FakeEnv({{"HOME", home.dir}, {"HEROKU_API_URL", "http://127.0.0.1:9/"}}));
  REQUIRE(options.ok());
  CHECK(options->api_url == "http://127.0.0.1:9");
  CHECK(options->token == "HRKU-netrc");
  CHECK(options->token_source == home.dir + "/.netrc");
  CHECK(options->api_reserve == 300);
  CHECK_FALSE(HerokuClientOptionsFromEnvironment(FakeEnv({})).ok());
}
