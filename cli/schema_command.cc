// `dynoherd schema`: the FormationPolicy JSON Schema for editors and CI validators.
#include <cstdio>

#include "cli/commands.h"
#include "spec/schema.h"

namespace dynoherd::cli {

void AddSchemaCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "schema", "Print the FormationPolicy JSON Schema (draft 2020-12) for editors and CI");
  command->footer(
      "Point an editor at it (yaml-language-server, VS Code's YAML extension):\n"
      "  dynoherd schema > formationpolicy.schema.json\n"
      "  and start a policy file with\n"
      "  # yaml-language-server: $schema=./formationpolicy.schema.json\n"
      "\n"
      "The schema checks names, types, ranges and most rules between fields;\n"
      "`dynoherd validate` checks all of them.");
  command->callback([&exit_code] {
    const std::string schema = spec::GenerateJsonSchema();
    std::fwrite(schema.data(), 1, schema.size(), stdout);
    exit_code = std::fflush(stdout) == 0 ? kExitOk : kExitError;
  });
}

}  // namespace dynoherd::cli
