// Character classes of the ASCII grammars dynoherd parses (durations, timestamps, router lines,
// logplex frames, dyno names): byte tests, independent of the locale unlike <cctype>.
#pragma once

namespace dynoherd {

constexpr bool IsAsciiDigit(char c) { return static_cast<unsigned char>(c - '0') <= 9; }
constexpr bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace dynoherd
