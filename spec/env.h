// ${VAR} expansion in the few spec fields that take it (spec.app, latency.url, latency.query).
// The environment is injected so tests and `dynoherd run` reloads do not depend on the process's.
#pragma once

#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"

namespace dynoherd::spec {

using dynoherd::EnvLookup;
using dynoherd::ProcessEnvironment;

// Replaces every ${NAME} (NAME: a letter or '_', then letters, digits, '_') with its value, and
// every ${NAME:-default} with its value, or `default` (literally) when NAME is unset or empty.
// "$$" is a literal "$"; a "$" followed by anything else is kept as written, so "up$" stays.
// Errors: an unset variable (the message names it, never a value), "${" without a valid name
// and a closing "}". Values are inserted as is: they are not expanded again.
Result<std::string> ExpandVariables(std::string_view text, const EnvLookup& env);

}  // namespace dynoherd::spec
