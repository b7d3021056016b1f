// libFuzzer target for the status file's codec and the checks of what comes back from a store
// (tools/fuzz.sh): any JSON either reads into a status that writes back to the same status, or is
// an error naming a field; validation never throws and names the field of each problem.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "model/codec.h"
#include "model/status_validation.h"

namespace {

using namespace dynoherd;
using namespace dynoherd::model;
using nlohmann::json;

void Require(bool condition) {
  if (!condition) std::abort();
}

spec::FormationSpec Formation(bool declared, bool autoscale) {
  spec::FormationSpec f;
  f.type = "web";
  if (declared) f.quantity = 3;
  f.latency = spec::LatencySpec{};
  if (autoscale) f.autoscale = spec::AutoscaleSpec{};
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const json doc = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;

  if (Result<PolicyStatus> status = PolicyStatusFromJson(doc); status.ok()) {
    // What is written reads back, and writes the same again (timestamps are written to the
    // millisecond, so the first read may hold more than the file keeps).
    const json written = ToJson(*status);
    Result<PolicyStatus> again = PolicyStatusFromJson(json::parse(written.dump()));
    Require(again.ok() && ToJson(*again) == written);
    const TimePoint now = *ParseTimestamp("2026-11-22T13:00:00Z");
    for (const FormationStatus& f : status->formations) {
      for (bool declared : {false, true}) {
        for (bool autoscale : {false, true}) {
          for (const std::string& problem :
               ValidateFormationStatus(f, Formation(declared, autoscale), now)) {
            Require(!problem.empty() && problem.find(':') != std::string::npos);
          }
        }
      }
    }
  } else {
    Require(!status.status().message().empty());
  }

  // A record in an older layout reads as none; one that reads back writes the same again.
  if (Result<std::optional<PassRecord>> record = PassRecordFromJson(doc); record.ok() && *record) {
    const json written = ToJson(**record);
    Result<std::optional<PassRecord>> again = PassRecordFromJson(json::parse(written.dump()));
    Require(again.ok() && *again && ToJson(**again) == written);
  }
  return 0;
}
