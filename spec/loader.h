// Reads FormationPolicy YAML into validated spec::Policy values, reporting every mistake with
// its file, line, column and field path. The only place that calls yaml-cpp.
//
// Strict by design: unknown fields (with a did-you-mean), duplicate keys, wrong types, values out
// of range, bad durations, missing required fields and broken cross-field rules are all errors,
// and every error of a run is reported, not only the first. The fields and their defaults are
// described once in spec/fields.h; docs/spec.md lists the rules.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/env.h"
#include "spec/policy.h"

namespace dynoherd::spec {

struct LoadError {
  SourceLocation location;  // line/column 0 when the error concerns a whole file
  std::string field;        // "spec.formations[0].laggards.sigma"; empty for file or YAML errors
  std::string message;      // "must be > 0 (got -1)"

  // "FILE:LINE:COL: FIELD.PATH: message"; parts that are unknown are left out.
  std::string ToString() const;
};

struct LoadResult {
  // Every policy, in the order loaded; empty whenever `errors` is not, so a half-valid set can
  // never be used by mistake.
  std::vector<Policy> policies;
  // Every error: by input, then by line and column within it.
  std::vector<LoadError> errors;

  bool ok() const { return errors.empty(); }
  // Every error's ToString(), one per line, each ending in '\n'.
  std::string ErrorText() const;
};

// Loads every policy named by `paths`: files, directories (every *.yaml and *.yml directly inside,
// sorted by name, not recursive; hidden files skipped) and "-" for `stdin_stream` (shown as
// "<stdin>"). Files may hold several "---" documents; empty documents are skipped. A file that
// appears twice (directly and through its directory) is read once. Policy names must be unique
// across everything loaded.
// What the command line changes in every document loaded.
struct LoadOptions {
  // -a/--app: every policy's spec.app, instead of the value written (which is then not
  // expanded). Checked as a written one would be, and errors say it came from -a.
  std::optional<std::string> app;
};

LoadResult LoadPolicies(const std::vector<std::string>& paths, const EnvLookup& env,
                        std::istream& stdin_stream, const LoadOptions& options = {});

// Parses one input's text; `filename` is what error locations name.
LoadResult ParsePolicies(std::string_view text, const std::string& filename, const EnvLookup& env,
                         const LoadOptions& options = {});

}  // namespace dynoherd::spec
