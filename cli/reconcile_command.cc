// `dynoherd reconcile -f PATH...`: one pass over every policy, applying the plan; for cron and CI.
#include <memory>

#include "cli/commands.h"
#include "cli/one_shot.h"

namespace dynoherd::cli {

void AddReconcileCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "reconcile", "Make one pass over every policy and apply the plan (for cron and CI jobs)");
  auto args = std::make_shared<OneShotArgs>();
  AddCommonOptions(*command, args->common, "info");
  AddPlatformOptions(*command, args->common);
  AddStoreOptions(*command, args->store);
  AddLeaseOptions(*command, args->store);
  AddOutputOption(*command, args->common, {"text", "json"});
  AddSimAtOption(*command, *args);
  command->add_flag_callback(
      "--dry-run", [args] { args->apply = false; },
      "Plan only, as `dynoherd plan` does: nothing sent, no state written, plan's "
      "exit statuses");
  command
      ->add_option("--metrics-file", args->metrics_file,
                   "Write the run's metrics here in the Prometheus text format, atomically (for "
                   "node_exporter's textfile collector: name it *.prom)")
      ->type_name("PATH");
  command
      ->add_option("--pushgateway", args->pushgateway,
                   "Push the run's metrics to this Prometheus Pushgateway "
                   "(http(s)://[user:password@]host:port), job \"dynoherd\"")
      ->type_name("URL");
  command
      ->add_option("--pushgateway-instance", args->pushgateway_instance,
                   "Add instance=NAME to the push's grouping key, for several reconcile jobs "
                   "pushing to one gateway")
      ->type_name("NAME");
  command
      ->add_option("--pushgateway-timeout", args->pushgateway_timeout,
                   "Longest wait for the push (default 10s)")
      ->type_name("DURATION")
      ->check(DurationValidator());
  command->footer(
      "Runs the policies one after the other; a policy that fails does not stop the others.\n"
      "Takes the state file's lock for the whole run: a second dynoherd on the same state\n"
      "exits 1 with \"another dynoherd holds STATEFILE\". Each policy's status is saved\n"
      "after its pass. With --store redis://... it takes each policy's lease instead (held\n"
      "for the run, renewed every --lease-renew): a policy whose lease another dynoherd holds\n"
      "is not reconciled, and the run says so and exits 4.\n"
      "\n"
      "Exit status: 0 every policy reconciled (acted or not); 1 any policy failed (the\n"
      "summary says which and why), or bad files or flags; 3 a change was sent and never\n"
      "answered; 4 (--store) another dynoherd held a policy's lease, which was skipped.\n"
      "Failing to write or push the metrics is logged as an error but does not change the\n"
      "exit status.\n"
      "\n"
      "Examples:\n"
      "  */5 * * * *  dynoherd reconcile -f /etc/dynoherd/ \\\n"
      "                 --metrics-file /var/lib/node_exporter/textfile/dynoherd.prom\n"
      "  dynoherd reconcile -f policies/ --pushgateway http://pushgateway:9091\n"
      "\n"
      "Needs HEROKU_API_KEY (or `heroku login`) for provider: heroku. docs/operations.md");
  command->callback([args, &exit_code] { exit_code = RunOneShot(*args); });
}

}  // namespace dynoherd::cli
