// The process environment, injected: code that reads variables takes an EnvLookup, so tests
// (and `dynoherd run` reloads) never depend on the real environment.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace dynoherd {

// The value of an environment variable; nullopt when it is not set (set but empty is "").
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment (getenv).
EnvLookup ProcessEnvironment();

}  // namespace dynoherd
