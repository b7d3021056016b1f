// Validates documents against a JSON Schema with an independent validator (Python jsonschema,
// draft 2020-12, through tests/support/check_json_schema.py), as a CI job or an editor would.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace dynoherd::testing {

// "valid" or "invalid: MESSAGE" per file (documents of one file concatenated). A schema may $ref
// the *.schema.json files beside it by name. An error when the validator cannot run (python3
// without jsonschema: `make deps`) or the schema is not a valid schema.
Result<std::map<std::string, std::string>> SchemaVerdicts(const std::string& schema_file,
                                                          const std::vector<std::string>& files);

}  // namespace dynoherd::testing
