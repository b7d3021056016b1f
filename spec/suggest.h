// "Did you mean ...?" for near misses in field names and enum values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynoherd::spec {

// The candidate `word` most plausibly meant: one that differs only in case, '-' or '_'
// ("min_ratio" -> "minRatio"), else the closest by edit distance (insertions, deletions,
// substitutions, swaps of neighbours) when that distance is small for the word's length.
// nullopt when nothing is close. Ties go to the earlier candidate.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace dynoherd::spec
