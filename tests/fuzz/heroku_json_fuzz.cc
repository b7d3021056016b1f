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

// A byte no error message of the readers holds; every JSON document holds one (a brace or bracket).
bool HasJsonOrBinaryByte(std::string_view body) {
  for (const char c : body) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '{' || c == '}' || c == '[' || c == ']' || byte < 0x20 || byte >= 0x7f) return true;
  }
  return false;
}

// An error message names the item and field, never the body: a body may hold anything. A body of
// plain prose may be a piece of the message's own text ("med JSON from Heroku (at "), so the check
// is on bodies the message's text could not contain by chance.
void CheckError(const Status& status, std::string_view body) {
  Require(!status.ok() && !status.message().empty());
  if (body.size() >= 24 && HasJsonOrBinaryByte(body)) {
    Require(status.message().find(body) == std::string::npos);
  }
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
