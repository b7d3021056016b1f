#include "tests/support/json_schema.h"

#include <filesystem>
#include <sstream>

#include "tests/support/subprocess.h"

namespace dynoherd::testing {
namespace {

// The Debian interpreter, for which `make deps` installs python3-jsonschema and python3-yaml.
std::string Python() {
  for (const char* candidate : {"/usr/bin/python3", "/usr/local/bin/python3"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return "python3";
}

}  // namespace

Result<std::map<std::string, std::string>> SchemaVerdicts(const std::string& schema_file,
                                                          const std::vector<std::string>& files) {
  std::vector<std::string> args = {"tests/support/check_json_schema.py", schema_file};
  args.insert(args.end(), files.begin(), files.end());
  ProcessOptions options;
  options.args = args;
  options.timeout = std::chrono::seconds(120);
  ProcessResult r = RunProcess(Python(), options);
  if (r.exit_code != 0) {
    return Status::FailedPrecondition(schema_file + ": the validator failed (python3 with " +
                                      "jsonschema and yaml is needed: make deps): " + r.out + r.err);
  }
  std::map<std::string, std::string> verdicts;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t hash = line.find('#');
    const size_t space = line.find(' ', hash);
    if (hash == std::string::npos || space == std::string::npos) continue;
    verdicts[line.substr(0, hash)] += line.substr(space + 1);
  }
  return verdicts;
}

}  // namespace dynoherd::testing
