#include "spec/env.h"

#include <doctest/doctest.h>

#include <map>

#include "spec/suggest.h"

namespace dynoherd::spec {
namespace {

std::string Expand(std::string_view text) {
  const std::map<std::string, std::string> vars = {
      {"APP", "shop"}, {"EMPTY", ""}, {"_X1", "x"}, {"NESTED", "${APP}"}};
  Result<std::string> r = ExpandVariables(text, [&](const std::string& name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  return r.ok() ? *r : "error: " + r.status().message();
}

TEST_CASE("ExpandVariables replaces ${NAME} and nothing else") {
  CHECK(Expand("${APP}") == "shop");
  CHECK(Expand("a-${APP}-${_X1}") == "a-shop-x");
  CHECK(Expand("${EMPTY}") == "");
  CHECK(Expand("no variables") == "no variables");
  CHECK(Expand("$APP") == "$APP");  // only the braced form expands
  CHECK(Expand("up$") == "up$");
  CHECK(Expand("a $ b") == "a $ b");
  CHECK(Expand("${NESTED}") == "${APP}");  // values are not expanded again
}

TEST_CASE("${NAME:-default}: the default when NAME is unset or empty, as in sh") {
  CHECK(Expand("${APP:-blog}") == "shop");
  CHECK(Expand("${MISSING:-blog}") == "blog");
  CHECK(Expand("${EMPTY:-blog}") == "blog");
  CHECK(Expand("${MISSING:-}") == "");
  CHECK(Expand("${MISSING:-${APP}") == "${APP");  // the default is taken literally
  CHECK(Expand("http://${MISSING:-localhost:9090}/api") == "http://localhost:9090/api");
}

TEST_CASE("$$ is a literal $") {
  CHECK(Expand("$$") == "$");
  CHECK(Expand("$${APP}") == "${APP}");
  CHECK(Expand("$$$${APP}") == "$${APP}");
  CHECK(Expand("cost: $$5") == "cost: $5");
}

TEST_CASE("ExpandVariables errors name the variable or the malformed reference") {
  CHECK(Expand("${MISSING}") == "error: environment variable MISSING is not set");
  CHECK(Expand("${APP") ==
        "error: \"${\" without a closing \"}\" (write \"$$\" for a literal \"$\")");
  CHECK(Expand("${}") ==
        "error: \"${}\" is not a variable reference: ${NAME} takes letters, digits and '_' "
        "(write \"$$\" for a literal \"$\")");
  CHECK(Expand("${1X:-x}") ==
        "error: \"${1X:-x}\" is not a variable reference: ${NAME} takes letters, digits and "
        "'_' (write \"$$\" for a literal \"$\")");
  CHECK(Expand("${1X}").rfind("error: \"${1X}\" is not a variable reference", 0) == 0);
}

TEST_CASE("ProcessEnvironment reads the process environment") {
  setenv("DYNOHERD_ENV_TEST", "value", 1);
  unsetenv("DYNOHERD_ENV_TEST_UNSET");
  EnvLookup env = ProcessEnvironment();
  CHECK(env("DYNOHERD_ENV_TEST") == "value");
  CHECK_FALSE(env("DYNOHERD_ENV_TEST_UNSET").has_value());
}

TEST_CASE("ClosestMatch finds near misses and nothing else") {
  const std::vector<std::string> fields = {"sigma",    "method",     "statistic", "minRatio",
                                           "minDynos", "minSamples", "cooldown"};
  CHECK(ClosestMatch("sigmaa", fields) == "sigma");
  CHECK(ClosestMatch("sgima", fields) == "sigma");  // a swap is one edit
  CHECK(ClosestMatch("min_ratio", fields) == "minRatio");
  CHECK(ClosestMatch("MINDYNOS", fields) == "minDynos");
  CHECK(ClosestMatch("minSample", fields) == "minSamples");
  CHECK(ClosestMatch("cooldwn", fields) == "cooldown");
  CHECK_FALSE(ClosestMatch("foo", fields).has_value());
  CHECK_FALSE(ClosestMatch("threshold", fields).has_value());
  CHECK_FALSE(ClosestMatch("", fields).has_value());
}

}  // namespace
}  // namespace dynoherd::spec
