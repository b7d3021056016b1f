// libFuzzer target for the readers of Heroku Platform API bodies (tools/fuzz.sh): whatever a body
// holds, each reader returns values in range or an error, and never throws or quotes the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "providers/heroku/heroku_json.h"

namespace {

using namespace dynoherd;
using namespace dynoherd::providers::heroku;

void Require(bool condition) {
  if (!condition) std::abort();
}

// An error message names the item and field, never the body: a body may hold anything.
void CheckError(const Status& status, std::string_view body) {
  Require(!status.ok() && !status.message().empty());
  if (body.size() >= 24) Require(status.message().find(body) == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (auto formations = ParseFormationPage(body); formations.ok()) {
    for (const auto& f : *formations)
      Require(f.quantity >= 0 && f.quantity <= 100000);
  } else {
    CheckError(formations.status(), body);
  }
  if (auto dynos = ParseDynoPage(body); !dynos.ok()) CheckError(dynos.status(), body);
  if (auto url = ParseLogplexUrl(body); url.ok()) {
    Require(!url->empty());
  } else {
    CheckError(url.status(), body);
  }
  if (auto remaining = ParseRateLimitRemaining(body); !remaining.ok()) {
    CheckError(remaining.status(), body);
  }
  const HerokuErrorBody error = ParseErrorBody(body);
  Require(error.id.size() <= body.size() && error.message.size() <= body.size());
  (void)FormationOfDynoName(body);
  return 0;
}
