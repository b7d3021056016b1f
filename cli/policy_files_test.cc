#include "cli/policy_files.h"

#include <doctest/doctest.h>

#include <sstream>

namespace dynoherd::cli {
namespace {

spec::EnvLookup NoEnv() {
  return [](const std::string&) { return std::optional<std::string>(); };
}

// Parses `args` as the `check` subcommand of a throwaway app and returns what -f collected.
std::vector<std::string> ParseFiles(std::vector<std::string> args) {
  CLI::App app;
  CLI::App* command = app.add_subcommand("check");
  PolicyFileArgs files;
  AddPolicyFilesOption(*command, files);
  args.insert(args.begin(), "check");
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
  return files.paths;
}

TEST_CASE("-f takes files, directories and -, repeated or several at once") {
  CHECK(ParseFiles({"-f", "a.yaml", "-f", "dir/"}) == std::vector<std::string>{"a.yaml", "dir/"});
  CHECK(ParseFiles({"--filename", "a.yaml", "b.yaml"}) ==
        std::vector<std::string>{"a.yaml", "b.yaml"});
  CHECK(ParseFiles({"-f", "-"}) == std::vector<std::string>{"-"});
  CHECK_THROWS_AS(ParseFiles({}), CLI::RequiredError);
}

TEST_CASE("LoadPoliciesOrReport returns the policies read from stdin") {
  std::istringstream in(
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
      "spec: {app: shop, formations: [{type: web}]}\n");
  std::ostringstream err;
  PolicyFileArgs files;
  files.paths = {"-"};
  auto policies = LoadPoliciesOrReport(files, err, in, NoEnv());
  REQUIRE(policies.has_value());
  REQUIRE(policies->size() == 1);
  CHECK((*policies)[0].name == "a");
  CHECK(err.str().empty());
}

TEST_CASE("LoadPoliciesOrReport writes every located error and returns nothing") {
  std::istringstream in(
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: a}\n"
      "spec: {app: '${APP}', formations: [{type: web, quantity: -1}]}\n");
  std::ostringstream err;
  PolicyFileArgs files;
  files.paths = {"-", "missing.yaml"};
  auto policies = LoadPoliciesOrReport(files, err, in, NoEnv());
  CHECK_FALSE(policies.has_value());
  CHECK(err.str() ==
        "<stdin>:4:13: spec.app: environment variable APP is not set\n"
        "<stdin>:4:58: spec.formations[0].quantity: must be >= 0 (got -1)\n"
        "missing.yaml: no such file or directory\n");
}

}  // namespace
}  // namespace dynoherd::cli
