#include "latency/dyno_names.h"

#include <array>

#include "common/ascii.h"

namespace dynoherd::latency {
namespace {

bool IsLowerAlnum(char c) { return IsAsciiDigit(c) || IsAsciiLower(c); }

bool AllOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

// Letters, digits, '.', '_' and '-': a table, because every router line checks its dyno name.
constexpr std::array<bool, 256> kDynoNameBytes = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '.' || c == '_' || c == '-';
  }
  return table;
}();

}  // namespace

bool IsValidDynoName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDynoNameBytes) return false;
  bool ok = true;
  for (char c : name)
    ok &= kDynoNameBytes[static_cast<unsigned char>(c)];
  return ok;
}

std::string_view FormationOfDyno(std::string_view dyno) {
  // Classic names: "<type>.<number>".
  if (size_t dot = dyno.rfind('.'); dot != std::string_view::npos && dot > 0) {
    if (AllOf(dyno.substr(dot + 1), IsAsciiDigit)) return dyno.substr(0, dot);
  }
  // Fir names follow Kubernetes pods: "<type>-<template hash>-<instance suffix>", both lowercase
  // alphanumeric. The hash is 5 to 10 characters and the suffix 5 in Kubernetes; allow a little
  // more so a platform change does not turn every dyno into its own formation.
  size_t last = dyno.rfind('-');
  if (last == std::string_view::npos || last == 0) return dyno;
  size_t middle = dyno.rfind('-', last - 1);
  if (middle == std::string_view::npos || middle == 0) return dyno;
  std::string_view hash = dyno.substr(middle + 1, last - middle - 1);
  std::string_view suffix = dyno.substr(last + 1);
  if (hash.size() < 4 || hash.size() > 16 || suffix.size() < 3 || suffix.size() > 10) return dyno;
  if (!AllOf(hash, IsLowerAlnum) || !AllOf(suffix, IsLowerAlnum)) return dyno;
  return dyno.substr(0, middle);
}

}  // namespace dynoherd::latency
