// libFuzzer target for the policy loader (tools/fuzz.sh): any text either loads into policies that
// keep the spec's ranges, or fails with located errors and no policy; the same text always gives
// the same answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "spec/loader.h"

namespace {

using namespace dynoherd;
using namespace dynoherd::spec;

void Require(bool condition) {
  if (!condition) std::abort();
}

// ${VAR} expands from a fixed environment, so a fuzzed reference is deterministic.
std::optional<std::string> Env(const std::string& name) {
  if (name == "APP") return "shop";
  if (name == "EMPTY") return "";
  return std::nullopt;
}

void CheckRanges(const Policy& policy) {
  Require(!policy.name.empty() && policy.name.size() <= 63);
  Require(policy.interval >= 10s && policy.interval <= 24h);
  Require(!policy.formations.empty());
  for (const FormationSpec& f : policy.formations) {
    Require(!f.type.empty());
    if (f.quantity) Require(*f.quantity >= 0 && *f.quantity <= 1000);
    if (f.laggards || f.autoscale) Require(f.latency.has_value());
    if (f.latency) Require(f.latency->window >= 30s && f.latency->window <= 1h);
    if (f.laggards) {
      Require(f.laggards->sigma > 0 && f.laggards->sigma <= 10);
      Require(f.laggards->min_dynos >= 2 && f.laggards->max_per_cycle >= 1);
    }
    if (f.autoscale) {
      Require(f.autoscale->max_extra_workers >= 0 && f.autoscale->max_extra_workers <= 100);
      Require(f.autoscale->restored_threshold <= f.autoscale->latency_threshold);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult first = ParsePolicies(text, "fuzz.yaml", Env);
  if (first.ok()) {
    for (const Policy& p : first.policies)
      CheckRanges(p);
  } else {
    Require(first.policies.empty());
    for (const LoadError& e : first.errors) {
      Require(!e.message.empty());
      Require(e.location.line >= 0 && e.location.column >= 0);
    }
  }
  const LoadResult again = ParsePolicies(text, "fuzz.yaml", Env);
  Require(again.ErrorText() == first.ErrorText());
  Require(again.policies.size() == first.policies.size());
  for (size_t i = 0; i < first.policies.size(); ++i)
    Require(again.policies[i] == first.policies[i]);
  return 0;
}
