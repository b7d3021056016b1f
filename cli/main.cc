// dynoherd: parses the command line and hands over to the command; nothing else lives here.
#include <cstdio>
#include <string>

#include "cli/build_info.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace dynoherd::cli;
  CLI::App app{
      "dynoherd: a reconciling operator for Heroku formations. It restarts laggard dynos and\n"
      "adds workers during latency events, as declared in FormationPolicy files.",
      "dynoherd"};
  app.set_version_flag("--version", VersionText());
  app.require_subcommand(1);
  app.fallthrough(false);
  int exit_code = kExitOk;

  CLI::App* help = app.add_subcommand("help", "Show help for dynoherd or one of its commands");
  std::string help_topic;
  help->add_option("command", help_topic, "The command to describe");
  help->callback([&] {
    CLI::App* target = &app;
    if (!help_topic.empty()) {
      try {
        target = app.get_subcommand(help_topic);
      } catch (const CLI::OptionNotFound&) {
        std::fprintf(stderr, "dynoherd help: unknown command \"%s\"\n", help_topic.c_str());
        exit_code = kExitError;
        return;
      }
    }
    // App::help() would describe the running `help` subcommand; format the target directly.
    std::string text =
        target->get_formatter()->make_help(target, target->get_name(), CLI::AppFormatMode::Normal);
    std::fputs(text.c_str(), stdout);
  });

  AddValidateCommand(app, exit_code);
  AddSchemaCommand(app, exit_code);
  AddPlanCommand(app, exit_code);
  AddReconcileCommand(app, exit_code);
  AddStatusCommand(app, exit_code);
  AddRunCommand(app, exit_code);
  AddSimulateCommand(app, exit_code);
  AddAnalyzeCommand(app, exit_code);

  // CLI11 reads an unknown word as a missing subcommand ("A subcommand is required"); name it.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    try {
      app.get_subcommand(word);
    } catch (const CLI::OptionNotFound&) {
      std::fprintf(stderr, "dynoherd: unknown command \"%s\"; `dynoherd help` lists them\n",
                   word.c_str());
      return kExitError;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed; every usage error is exit status 1, like any error.
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitError;
  }
  return exit_code;
}
