#include "spec/suggest.h"

#include <algorithm>
#include <cctype>

namespace dynoherd::spec {
namespace {

std::string Normalize(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (c == '-' || c == '_') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Optimal string alignment distance: Levenshtein plus transposition of adjacent characters.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  const std::string normalized = Normalize(word);
  for (const auto& c : candidates) {
    if (Normalize(c) == normalized) return c;
  }
  // One edit per four characters, at least one: "sigmaa" -> "sigma", "leave-on-out" ->
  // "leave-one-out", but not "median" -> "mean" (a different statistic) or "foo" -> "url".
  const size_t allowed = std::max<size_t>(1, normalized.size() / 4);
  std::optional<std::string> best;
  size_t best_distance = allowed + 1;
  for (const auto& c : candidates) {
    size_t distance = EditDistance(normalized, Normalize(c));
    if (distance < best_distance) {
      best_distance = distance;
      best = c;
    }
  }
  return best;
}

}  // namespace dynoherd::spec
