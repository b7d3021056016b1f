// `dynoherd schema`: the JSON Schema (draft 2020-12) of a FormationPolicy document, for editors
// (yaml-language-server) and CI validators. Generated from spec/fields.h, the description the
// loader reads by; cross-field rules JSON Schema can express are added as if/then.
#pragma once

#include <string>

namespace dynoherd::spec {

// The schema as pretty-printed JSON (two-space indent), ending with a newline. Deterministic:
// the same build always prints the same bytes, so a checked-in copy can be compared.
std::string GenerateJsonSchema();

}  // namespace dynoherd::spec
