#!/usr/bin/env python3
"""Checks the deployment recipes (Dockerfile, examples/gitops, heroku, kubernetes, systemd)
against each other, against docs/install.md and against the real binary, so none of them rots.

Run by CTest from the source root with DYNOHERD_BINARY set (tests/CMakeLists.txt); by hand:
    DYNOHERD_BINARY=build/dynoherd python3 tests/deploy_recipes_test.py -v
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import yaml

ROOT = Path(os.environ.get("DYNOHERD_SOURCE_DIR", Path(__file__).resolve().parent.parent))
BINARY = os.environ.get("DYNOHERD_BINARY", str(ROOT / "build" / "dynoherd"))

GITOPS = ROOT / "examples" / "gitops"
HEROKU = ROOT / "examples" / "heroku"
KUBERNETES = ROOT / "examples" / "kubernetes"
SYSTEMD = ROOT / "examples" / "systemd"
WORKFLOWS = GITOPS / ".github" / "workflows"
SETUP_ACTION = GITOPS / ".github" / "actions" / "dynoherd" / "action.yml"

# The file `make package` writes, as the recipes install it.
PACKAGE_GLOB = "dynoherd_*.deb"

# What a user would have to hunt for and replace: none may be left in a recipe or a doc.
PLACEHOLDERS = re.compile(r"\bOWNER/|github\.com/YOU\b|registry\.example\.com|runbook_url: \"docs/")

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def run(args, env=None, cwd=ROOT):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def dynoherd(*args, env=None):
    return run([BINARY, *args], env=env)


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def load_all_yaml(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


# --- Dockerfiles -------------------------------------------------------------------------------


def dockerfile_instructions(path):
    """(INSTRUCTION, argument) pairs: comments dropped, continuation lines joined."""
    instructions, pending = [], ""
    for line in Path(path).read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        keyword, _, argument = pending.partition(" ")
        instructions.append((keyword.upper(), argument.strip()))
        pending = ""
    return instructions


def dockerfile_stages(path):
    """Stages in order: a list of (FROM argument, [(INSTRUCTION, argument), ...])."""
    stages = []
    for keyword, argument in dockerfile_instructions(path):
        if keyword == "FROM":
            stages.append((argument, []))
        elif stages:
            stages[-1][1].append((keyword, argument))
    return stages


def split_commands(script):
    """Shell commands of a RUN line or script: split on newlines and `&&`, comments dropped."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line.startswith("#"):
            continue
        commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands


def build_commands_after_source(commands):
    """The build commands proper: those after the source is in place (after a `git clone` when
    the list has one), `cd` left out; `sudo` is what a non-root user types before a command."""
    clones = [i for i, c in enumerate(commands) if c.startswith("git clone ")]
    if clones:
        commands = commands[clones[-1] + 1 :]
    commands = [c.removeprefix("sudo ") for c in commands if not c.startswith("cd ")]
    return commands


def dockerfile_build_commands(path):
    _, instructions = dockerfile_stages(path)[0]
    commands = []
    for keyword, argument in instructions:
        if keyword == "RUN":
            commands += split_commands(argument)
    return build_commands_after_source(commands)


def apt_install_packages(script):
    """Package names of the `apt-get install` commands of a script."""
    packages = []
    for command in split_commands(script):
        words = shlex.split(command)
        if words[:2] == ["apt-get", "install"]:
            packages += [w for w in words[2:] if not w.startswith("-") and w != ">/dev/null"]
    return packages


def runtime_stage_packages(path):
    _, instructions = dockerfile_stages(path)[-1]
    return sorted(
        p for keyword, argument in instructions if keyword == "RUN" for p in apt_install_packages(argument)
    )


def install_doc_build_commands():
    """The commands of the first `sh` block under docs/install.md's "Build from source"."""
    text = (ROOT / "docs" / "install.md").read_text()
    section = text.split("## Build from source", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return build_commands_after_source(split_commands(block))


def install_doc_package_commands():
    """The commands of the first `sh` block under docs/install.md's "The Debian package"."""
    text = (ROOT / "docs" / "install.md").read_text()
    section = text.split("## The Debian package", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return build_commands_after_source(split_commands(block))


def readme_build_commands():
    """The commands of the `sh` block under README.md's "Building and installing"."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Building and installing", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return build_commands_after_source(split_commands(block))


# --- Workflows ---------------------------------------------------------------------------------


def workflow_files():
    return sorted(WORKFLOWS.glob("*.yml"))


def steps_of(path):
    document = load_yaml(path)
    if "runs" in document:  # a composite action
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job["steps"]]


def run_step(path, invocation):
    """The one step of a workflow whose script runs `dynoherd <invocation>`."""
    found = [s for s in steps_of(path) if re.search(rf"\bdynoherd {invocation}\b", s.get("run", ""))]
    assert len(found) == 1, f"{path}: {len(found)} steps run `dynoherd {invocation}`"
    return found[0]


def dynoherd_invocations(script):
    """(subcommand, flags) for each `dynoherd <subcommand>` of a shell script or command line. The
    flags are the command's own up to a redirection, pipe or `;`, plus those of the bash arrays it
    expands (`args=(...)`, `args+=(...)` then `"${args[@]}"`)."""
    invocations = []
    for match in re.finditer(r"\bdynoherd\s+([a-z][a-z-]*)([^\n|;>]*)", script):
        words = match.group(2)
        for array in re.findall(r"\$\{(\w+)\[@\]\}", words):
            words += " " + " ".join(re.findall(rf"\b{array}\+?=\(([^)]*)\)", script))
        flags = re.findall(r"(?<![\w$-])(--?[a-zA-Z][a-zA-Z-]*)", words)
        invocations.append((match.group(1), flags))
    return invocations


class YamlParses(unittest.TestCase):
    def test_every_recipe_yaml_parses(self):
        files = [
            p
            for directory in (GITOPS, HEROKU, KUBERNETES)
            for p in sorted(directory.rglob("*"))
            if p.suffix in (".yaml", ".yml")
        ]
        names = {p.relative_to(ROOT).as_posix() for p in files}
        # The files this test is about must all be found (a rename would silently skip one).
        for expected in (
            "examples/gitops/.github/workflows/dynoherd-plan.yml",
            "examples/gitops/.github/workflows/dynoherd-reconcile.yml",
            "examples/gitops/.github/actions/dynoherd/action.yml",
            "examples/heroku/heroku.yml",
            "examples/kubernetes/deployment.yaml",
            "examples/kubernetes/servicemonitor.yaml",
        ):
            self.assertIn(expected, names)
        for path in files:
            with self.subTest(file=str(path.relative_to(ROOT))):
                documents = load_all_yaml(path)
                self.assertTrue(documents, "no YAML document")
                for document in documents:
                    self.assertIsInstance(document, dict)

    def test_kubernetes_manifests_have_kind_and_name(self):
        for path in sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml"):
            for document in load_all_yaml(path):
                with self.subTest(file=path.name):
                    self.assertIn("apiVersion", document)
                    self.assertIn("kind", document)
                    self.assertTrue(document["metadata"]["name"])
        monitor = load_yaml(KUBERNETES / "servicemonitor.yaml")
        self.assertEqual(monitor["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(monitor["kind"], "ServiceMonitor")

    def test_workflows_have_jobs_with_steps(self):
        self.assertEqual([p.name for p in workflow_files()], ["dynoherd-plan.yml", "dynoherd-reconcile.yml"])
        for path in workflow_files():
            workflow = load_yaml(path)
            # YAML 1.1 reads the key `on` as True.
            self.assertTrue(workflow.get("on") or workflow.get(True), path.name)
            self.assertTrue(steps_of(path), path.name)


class PoliciesValidate(unittest.TestCase):
    def validate(self, paths, env_values):
        env = {k: v for k, v in os.environ.items() if k not in env_values}
        env.update(env_values)
        return dynoherd("validate", "-f", *map(str, paths), env=env)

    def test_gitops_policies_validate_with_the_workflows_environment(self):
        policies = sorted((GITOPS / "policies").glob("*.yaml"))
        self.assertGreaterEqual(len(policies), 3, "several apps, one file per app")
        referenced = {name for p in policies for name in ENV_REFERENCE.findall(p.read_text())}
        self.assertTrue(referenced)
        for path in workflow_files():
            workflow_env = load_yaml(path)["env"]
            with self.subTest(workflow=path.name):
                # Each ${VAR} of the policies is set by the workflow, or every run fails to load.
                self.assertLessEqual(referenced, set(workflow_env), "variables the workflow does not set")
        values = {}
        for name in referenced:
            # The default the workflow gives (`vars.X || 'default'`), else a stand-in for a secret.
            default = re.search(r"\|\|\s*'([^']*)'", str(load_yaml(workflow_files()[0])["env"].get(name, "")))
            values[name] = default.group(1) if default else "https://prometheus.example.com"
        result = self.validate([GITOPS / "policies"], values)
        self.assertEqual(result.returncode, 0, result.stderr)
        count = sum(len(load_all_yaml(p)) for p in policies)
        self.assertEqual(result.stdout, f"{count} policies valid\n")
        # The variables matter: without them the same files do not load.
        missing = self.validate([GITOPS / "policies"], {})
        if not referenced <= set(os.environ):
            self.assertEqual(missing.returncode, 1)
            self.assertIn("is not set", missing.stderr)

    def test_heroku_policies_validate(self):
        result = self.validate([HEROKU / "policies"], {})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"^\d+ policies valid\n$")

    def test_configmap_policies_validate_as_kubelet_mounts_them(self):
        configmap = load_yaml(KUBERNETES / "configmap.yaml")
        files = {k: v for k, v in configmap["data"].items() if k.endswith((".yaml", ".yml"))}
        self.assertTrue(files)
        deployment = load_yaml(KUBERNETES / "deployment.yaml")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        pod_env = {e["name"] for e in container.get("env", [])}
        referenced = {name for text in files.values() for name in ENV_REFERENCE.findall(text)}
        self.assertLessEqual(referenced, pod_env, "${VAR}s the pod's environment does not set")
        with tempfile.TemporaryDirectory() as tmp:
            # The layout of a ConfigMap volume: the keys are symlinks through ..data into a
            # timestamped directory, which `-f DIR` must read (and whose dot entries it must skip).
            mount = Path(tmp) / "policies"
            timestamped = mount / "..2024_01_01_00_00_00.000000000"
            timestamped.mkdir(parents=True)
            for name, text in files.items():
                (timestamped / name).write_text(text)
            (mount / "..data").symlink_to(timestamped.name)
            for name in files:
                (mount / name).symlink_to(Path("..data") / name)
            result = self.validate([str(mount) + "/"], {n: "https://prometheus.example.com" for n in referenced})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{len(files)} policies valid\n")


class BuildCommands(unittest.TestCase):
    def test_install_doc_lists_build_commands(self):
        commands = install_doc_build_commands()
        self.assertIn("make build", commands)
        self.assertIn("bash tools/install-deps.sh", commands)

    def test_install_doc_lists_package_commands(self):
        self.assertEqual(install_doc_package_commands(),
                         ["bash tools/install-deps.sh package", "make package", f"apt install ./build/{PACKAGE_GLOB}"])

    def test_the_readme_shows_the_install_doc_package_commands(self):
        self.assertEqual(readme_build_commands(), install_doc_package_commands())

    def test_dockerfiles_build_the_package_with_the_install_doc_commands(self):
        expected = install_doc_package_commands()[:2]  # the install is the runtime stage's
        for path in (ROOT / "Dockerfile", HEROKU / "Dockerfile"):
            with self.subTest(dockerfile=str(path.relative_to(ROOT))):
                self.assertEqual(dockerfile_build_commands(path), expected)

    def test_runtime_stages_install_the_package_and_nothing_else(self):
        for path in (ROOT / "Dockerfile", HEROKU / "Dockerfile"):
            with self.subTest(dockerfile=str(path.relative_to(ROOT))):
                stages = dockerfile_stages(path)
                self.assertEqual(stages[0][0].split()[0], "debian:bookworm")
                base, instructions = stages[-1]
                self.assertEqual(base.split()[0], "debian:bookworm-slim")
                copies = [a for k, a in instructions if k == "COPY" and a.startswith("--from=")]
                self.assertEqual(copies[0], f"--from=build /src/build/{PACKAGE_GLOB} /tmp/")
                # apt brings what Depends names, and nothing else is asked for.
                self.assertEqual(runtime_stage_packages(path), [f"/tmp/{PACKAGE_GLOB}"])
                runs = " ".join(a for k, a in instructions if k == "RUN")
                self.assertIn("--no-install-recommends", runs)
                self.assertNotRegex(runs, r"\b(make|install-deps|g\+\+|clang|cmake)\b")

    def test_the_action_builds_and_installs_the_package(self):
        steps = steps_of(SETUP_ACTION)
        build = [s for s in steps if "make " in s.get("run", "")]
        self.assertEqual(len(build), 1)
        self.assertEqual(build_commands_after_source(split_commands(build[0]["run"])),
                         install_doc_package_commands()[:2])
        install = [s for s in steps if "apt-get install" in s.get("run", "") and PACKAGE_GLOB in s["run"]]
        self.assertEqual(len(install), 1)
        self.assertNotIn("if", install[0], "installed after a build and after a cache hit alike")
        self.assertEqual(apt_install_packages(install[0]["run"]), [f"./build/{PACKAGE_GLOB}"])
        # The cache holds the package `make package` wrote, where the install step takes it from.
        clone_dir = re.search(r"git clone .* (\S+)$", build[0]["run"], re.M).group(1)
        for step in steps:
            if step.get("uses", "").startswith("actions/cache/"):
                self.assertEqual(step["with"]["path"], f"{clone_dir}/build/{PACKAGE_GLOB}")
        self.assertIn(f"cd {clone_dir}", install[0]["run"])
        for path in workflow_files():
            with self.subTest(workflow=path.name):
                uses = [s for s in steps_of(path) if s.get("uses") == "./.github/actions/dynoherd"]
                self.assertEqual(len(uses), 1)
                self.assertEqual(uses[0]["with"], {"repository": "${{ vars.DYNOHERD_REPOSITORY }}",
                                                   "ref": "${{ vars.DYNOHERD_REF }}"})

    def test_the_comparison_notices_a_change(self):
        # The parser sees what a reader sees: a changed or added build command makes a difference.
        with tempfile.TemporaryDirectory() as tmp:
            changed = Path(tmp) / "Dockerfile"
            text = (ROOT / "Dockerfile").read_text()
            self.assertIn("RUN make package\n", text)
            changed.write_text(text.replace("RUN make package\n", "RUN make package JOBS=1\n"))
            self.assertNotEqual(dockerfile_build_commands(changed), install_doc_package_commands()[:2])

    def test_no_placeholder_to_hunt_for(self):
        files = [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "docs").glob("*.md"))]
        files += [p for p in sorted((ROOT / "examples").rglob("*")) if p.is_file()]
        for path in files:
            with self.subTest(file=str(path.relative_to(ROOT))):
                found = PLACEHOLDERS.findall(path.read_text(errors="replace"))
                self.assertEqual(found, [])
        self.assertTrue(PLACEHOLDERS.search("git clone https://github.com/OWNER/dynoherd.git"))


class SetupAction(unittest.TestCase):
    """The action's first step, run as GitHub runs it (bash -eo pipefail) with stand-ins for
    apt-get and git on the PATH: where dynoherd comes from when nothing is set, and when it is."""

    def resolve(self, repository="", ref="", remote_refs="0123abcd\trefs/heads/main\n"):
        step = steps_of(SETUP_ACTION)[0]
        self.assertIn("git ls-remote", step["run"])
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "bin").mkdir()
            for tool, script in {
                "apt-get": "exit 0",
                "git": f'echo "$@" >> {tmp}/git-args\nprintf "{remote_refs}"',
            }.items():
                (tmp / "bin" / tool).write_text(f"#!/bin/sh\n{script}\n")
                (tmp / "bin" / tool).chmod(0o755)
            (tmp / "step.sh").write_text(step["run"])
            env = {"PATH": f"{tmp / 'bin'}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(tmp / "output"),
                   "GITHUB_REPOSITORY_OWNER": "acme", "DYNOHERD_REPOSITORY": repository,
                   "DYNOHERD_REF": ref}
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(tmp / "step.sh")],
                                    cwd=tmp, env=env, capture_output=True, text=True, timeout=30)
            output = (tmp / "output").read_text() if (tmp / "output").exists() else ""
            git_args = (tmp / "git-args").read_text() if (tmp / "git-args").exists() else ""
        return result, dict(line.split("=", 1) for line in output.splitlines()), git_args

    def test_unset_variables_build_main_of_the_owners_dynoherd(self):
        result, outputs, git_args = self.resolve()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(outputs, {"repository": "https://github.com/acme/dynoherd.git", "ref": "main",
                                   "commit": "0123abcd"})
        self.assertIn("ls-remote https://github.com/acme/dynoherd.git main main^{}", git_args)

    def test_the_variables_choose_another(self):
        result, outputs, _ = self.resolve("https://git.example.org/ops/dynoherd.git", "v0.1.0",
                                          "0123abcd\trefs/tags/v0.1.0\n4567ef\trefs/tags/v0.1.0^{}\n")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(outputs["repository"], "https://git.example.org/ops/dynoherd.git")
        self.assertEqual(outputs["commit"], "4567ef")  # the tag's commit, not the tag object

    def test_a_missing_branch_names_the_variables(self):
        result, outputs, _ = self.resolve(remote_refs="")
        self.assertEqual(result.returncode, 1)
        self.assertIn("DYNOHERD_REPOSITORY", result.stdout)
        self.assertIn("DYNOHERD_REF", result.stdout)
        self.assertNotIn("commit", outputs)


class CommandsAndFlags(unittest.TestCase):
    help_cache = {}

    def help_text(self, subcommand):
        if subcommand not in self.help_cache:
            result = dynoherd(subcommand, "--help")
            self.assertEqual(result.returncode, 0, f"`dynoherd {subcommand} --help`: {result.stderr}")
            self.help_cache[subcommand] = result.stdout
        return self.help_cache[subcommand]

    def assert_flags_exist(self, where, subcommand, flags):
        text = self.help_text(subcommand)
        for flag in flags:
            with self.subTest(where=where, command=subcommand, flag=flag):
                found = re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text)
                self.assertTrue(found, f"{where}: no {flag} in `dynoherd {subcommand} --help`")

    def recipe_command_lines(self):
        """(where, script) for every place a recipe runs dynoherd."""
        lines = []
        for path in [*workflow_files(), SETUP_ACTION]:
            for step in steps_of(path):
                if "dynoherd " in step.get("run", ""):
                    lines.append((f"{path.name}: {step.get('name', step['run'][:30])}", step["run"]))
        lines.append(("Procfile", (HEROKU / "Procfile").read_text()))
        lines.append(("heroku.yml", load_yaml(HEROKU / "heroku.yml")["run"]["web"]))
        heroku_cmd = [a for k, a in dockerfile_stages(HEROKU / "Dockerfile")[-1][1] if k == "CMD"]
        lines.append(("examples/heroku/Dockerfile CMD", heroku_cmd[0]))
        container = load_yaml(KUBERNETES / "deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
        lines.append(("deployment.yaml args", "dynoherd " + " ".join(container["args"])))
        for line in (SYSTEMD / "dynoherd.service").read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecReload=")) and "dynoherd" in line:
                lines.append((line.split("=", 1)[0], line.split("=", 1)[1]))
        return lines

    def test_recipes_use_only_existing_commands_and_flags(self):
        seen = set()
        for where, script in self.recipe_command_lines():
            for subcommand, flags in dynoherd_invocations(script):
                seen.add(subcommand)
                self.assert_flags_exist(where, subcommand, flags)
        self.assertLessEqual({"validate", "plan", "reconcile", "run"}, seen)

    def test_the_flag_check_catches_a_made_up_flag(self):
        text = self.help_text("run")
        self.assertNotRegex(text, r"(?<![\w-])--once(?![\w-])")
        self.assertRegex(text, r"(?<![\w-])--listen(?![\w-])")

    def test_version_flag_of_the_setup_action(self):
        self.assertIn("dynoherd --version", SETUP_ACTION.read_text())
        result = dynoherd("--version")
        self.assertEqual(result.returncode, 0, result.stderr)


class WorkflowExitStatuses(unittest.TestCase):
    """Runs a workflow step's script as GitHub does (bash -eo pipefail), with a stand-in dynoherd
    on the PATH that prints a plan and exits with the status under test."""

    def run_step(self, step, exit_status):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            fake = tmp / "bin" / "dynoherd"
            fake.parent.mkdir()
            fake.write_text(f"#!/bin/sh\necho \"fake plan output $*\"\necho \"fake log line\" >&2\nexit {exit_status}\n")
            fake.chmod(0o755)
            summary = tmp / "summary.md"
            script = tmp / "step.sh"
            script.write_text(step["run"])
            env = {
                "PATH": f"{fake.parent}:{os.environ['PATH']}",
                "GITHUB_STEP_SUMMARY": str(summary),
                "PUSHGATEWAY_URL": "",
            }
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=tmp, env=env, capture_output=True, text=True, timeout=30,
            )
            return result, summary.read_text() if summary.exists() else ""

    def test_plan_step_passes_on_0_and_2_and_fails_otherwise(self):
        step = run_step(WORKFLOWS / "dynoherd-plan.yml", "plan")
        self.assertEqual(step.get("shell"), "bash")
        for status, passes in ((0, True), (2, True), (1, False), (3, False)):
            with self.subTest(exit_status=status):
                result, summary = self.run_step(step, status)
                self.assertEqual(result.returncode == 0, passes, result.stdout + result.stderr)
                # The plan is in the job summary in every case; the log lines too on an error.
                self.assertIn("fake plan output plan -f policies/", summary)
                self.assertEqual("fake log line" in summary, not passes)

    def test_reconcile_step_fails_when_reconcile_fails(self):
        step = run_step(WORKFLOWS / "dynoherd-reconcile.yml", "reconcile")
        for status, passes in ((0, True), (1, False)):
            with self.subTest(exit_status=status):
                result, summary = self.run_step(step, status)
                self.assertEqual(result.returncode == 0, passes, result.stdout + result.stderr)
                self.assertIn("fake plan output reconcile -f policies/", summary)

    def test_reconcile_never_overlaps_and_keeps_its_state(self):
        workflow = load_yaml(WORKFLOWS / "dynoherd-reconcile.yml")
        self.assertEqual(workflow["concurrency"]["cancel-in-progress"], False)
        self.assertTrue(workflow["concurrency"]["group"])
        triggers = workflow.get("on") or workflow[True]
        self.assertIn("schedule", triggers)
        steps = steps_of(WORKFLOWS / "dynoherd-reconcile.yml")
        reconcile = run_step(WORKFLOWS / "dynoherd-reconcile.yml", "reconcile")
        self.assertEqual(reconcile["env"]["HEROKU_API_KEY"], "${{ secrets.HEROKU_API_KEY }}")
        state = re.search(r"--state (\S+)", reconcile["run"]).group(1)
        state_dir = str(Path(state).parent)
        restore = [s for s in steps if s.get("uses", "").startswith("actions/cache/restore")]
        save = [s for s in steps if s.get("uses", "").startswith("actions/cache/save")]
        self.assertEqual([s["with"]["path"] for s in restore], [state_dir])
        self.assertEqual([s["with"]["path"] for s in save], [state_dir])
        self.assertLess(steps.index(restore[0]), steps.index(reconcile))
        self.assertLess(steps.index(reconcile), steps.index(save[0]))
        self.assertIn("always()", save[0]["if"])


class HerokuRecipe(unittest.TestCase):
    def test_procfile_heroku_yml_and_image_run_the_same_command(self):
        procfile = dict(
            line.split(":", 1) for line in (HEROKU / "Procfile").read_text().splitlines() if line.strip()
        )
        web = procfile["web"].strip()
        self.assertEqual(web, "dynoherd run --listen 0.0.0.0:$PORT -f policies/ --log-format json")
        manifest = load_yaml(HEROKU / "heroku.yml")
        self.assertEqual(manifest["run"]["web"], web)
        self.assertEqual(manifest["build"]["docker"]["web"], "Dockerfile")
        final = dockerfile_stages(HEROKU / "Dockerfile")[-1][1]
        self.assertEqual([a for k, a in final if k == "CMD"], [web])
        # Heroku hands the command to a shell; an ENTRYPOINT would receive it as arguments.
        self.assertNotIn("ENTRYPOINT", [k for k, _ in final])
        workdir = [a for k, a in final if k == "WORKDIR"][-1]
        copies = [a.split() for k, a in final if k == "COPY" and not a.startswith("--from")]
        self.assertIn(["policies/", "policies/"], copies, "the image holds policies/ under WORKDIR")
        self.assertEqual(workdir, "/app")

    def test_heroku_yml_says_which_dynoherd_to_build(self):
        config = load_yaml(HEROKU / "heroku.yml")["build"]["config"]
        _, build = dockerfile_stages(HEROKU / "Dockerfile")[0]
        args = [a.split("=", 1)[0] for k, a in build if k == "ARG"]
        self.assertEqual(sorted(config), sorted(args), "build.config sets the Dockerfile's ARGs")
        self.assertIn("DYNOHERD_REPOSITORY", config)
        clone = [a for k, a in build if k == "RUN" and "git clone" in a]
        self.assertEqual(clone, ['git clone --depth 1 --branch "$DYNOHERD_REF" "$DYNOHERD_REPOSITORY" /src'])

    def test_a_build_without_the_repository_stops_and_says_where_to_set_it(self):
        _, build = dockerfile_stages(HEROKU / "Dockerfile")[0]
        check = [a for k, a in build if k == "RUN" and "DYNOHERD_REPOSITORY" in a and "git clone" not in a]
        self.assertEqual(len(check), 1)
        for value, status in (("", 1), ("https://git.example.org/ops/dynoherd.git", 0)):
            with self.subTest(value=value):
                result = subprocess.run(["sh", "-c", check[0]], env={"DYNOHERD_REPOSITORY": value, "PATH": os.environ["PATH"]},
                                        capture_output=True, text=True, timeout=10)
                self.assertEqual(result.returncode, status)
        self.assertIn("heroku.yml", result.stderr + check[0])

    def test_readme_drains_name_drain_policies(self):
        drain_policies = {
            doc["metadata"]["name"]
            for path in sorted((HEROKU / "policies").glob("*.yaml"))
            for doc in load_all_yaml(path)
            if any(f.get("latency", {}).get("via") == "drain" for f in doc["spec"]["formations"])
        }
        self.assertTrue(drain_policies)
        readme = (HEROKU / "README.md").read_text()
        lines = re.findall(r"heroku drains:add \"https://dynoherd:\$DYNOHERD_DRAIN_SECRET@[^\"/]+/drains/([a-z0-9-]+)\"", readme)
        self.assertTrue(lines, "no drains:add line in the README")
        self.assertLessEqual(set(lines), drain_policies)
        # The route and its basic-auth password are the listener's (docs/latency.md).
        latency = (ROOT / "docs" / "latency.md").read_text()
        self.assertIn("POST /drains/<policy>", latency)
        self.assertIn("DYNOHERD_DRAIN_SECRET", latency)


class KubernetesRecipe(unittest.TestCase):
    def test_deployment_is_consistent(self):
        deployment = load_yaml(KUBERNETES / "deployment.yaml")
        spec = deployment["spec"]
        self.assertEqual(spec["replicas"], 1)
        self.assertEqual(spec["strategy"]["type"], "Recreate")
        pod = spec["template"]["spec"]
        container = pod["containers"][0]
        args = container["args"]
        self.assertEqual(args[0], "run")
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        # -f reads the mounted ConfigMap, --state writes into the writable volume.
        policies_path = args[args.index("-f") + 1]
        policies_volume = [n for n, p in mounts.items() if policies_path.rstrip("/") == p.rstrip("/")]
        self.assertEqual(len(policies_volume), 1)
        configmap = load_yaml(KUBERNETES / "configmap.yaml")
        self.assertEqual(volumes[policies_volume[0]]["configMap"]["name"], configmap["metadata"]["name"])
        state_path = args[args.index("--state") + 1]
        state_volume = [n for n, p in mounts.items() if state_path.startswith(p.rstrip("/") + "/")]
        self.assertEqual(len(state_volume), 1)
        self.assertTrue({"emptyDir", "persistentVolumeClaim"} & set(volumes[state_volume[0]]))
        # The listener on the probed, exposed port.
        port = int(args[args.index("--listen") + 1].rsplit(":", 1)[1])
        self.assertEqual(container["ports"][0]["containerPort"], port)
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertGreaterEqual(pod["terminationGracePeriodSeconds"], 15)
        # Non-root, read-only root file system, the image's user.
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"])
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        image_user = [a for k, a in dockerfile_stages(ROOT / "Dockerfile")[-1][1] if k == "USER"][-1]
        self.assertEqual(str(pod["securityContext"]["runAsUser"]), image_user.split(":")[0])
        token = [e for e in container["env"] if e["name"] == "HEROKU_API_KEY"][0]
        self.assertIn("secretKeyRef", token["valueFrom"])
        self.assertIn("memory", container["resources"]["limits"])

    def test_the_image_is_set_in_one_place(self):
        kustomization = load_yaml(KUBERNETES / "kustomization.yaml")
        self.assertEqual(kustomization["kind"], "Kustomization")
        manifests = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
        # Everything but the ServiceMonitor, which needs the Prometheus Operator's CRD.
        self.assertEqual(set(kustomization["resources"]), manifests - {"servicemonitor.yaml"})
        container = load_yaml(KUBERNETES / "deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
        name, _, tag = container["image"].partition(":")
        self.assertEqual(kustomization["images"], [{"name": name, "newName": name, "newTag": tag}])
        # The name `docker build` gives the root Dockerfile's image in install.md.
        install = (ROOT / "docs" / "install.md").read_text()
        self.assertIn(f"docker build -t {container['image']} .", install)
        version = re.search(r"project\(dynoherd VERSION (\S+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
        self.assertEqual(tag, version)
        self.assertIn("DYNOHERD_IMAGE", (KUBERNETES / "README.md").read_text())

    def test_service_and_monitor_reach_the_pod(self):
        deployment = load_yaml(KUBERNETES / "deployment.yaml")
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        port_name = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"]
        service = load_yaml(KUBERNETES / "service.yaml")
        self.assertLessEqual(service["spec"]["selector"].items(), pod_labels.items())
        self.assertIn(port_name, [p["targetPort"] for p in service["spec"]["ports"]])
        monitor = load_yaml(KUBERNETES / "servicemonitor.yaml")
        self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(), service["metadata"]["labels"].items())
        self.assertIn(monitor["spec"]["endpoints"][0]["port"], [p["name"] for p in service["spec"]["ports"]])
        self.assertEqual(monitor["spec"]["endpoints"][0]["path"], "/metrics")


class KubernetesReplicasRecipe(unittest.TestCase):
    OVERLAY = KUBERNETES / "replicas"

    def test_overlay_runs_two_replicas_on_the_secret_store(self):
        kustomization = load_yaml(self.OVERLAY / "kustomization.yaml")
        self.assertEqual(kustomization["resources"], [".."])
        patch_paths = [p["path"] for p in kustomization["patches"]]
        self.assertEqual(patch_paths, ["deployment-patch.yaml"])
        patch = load_yaml(self.OVERLAY / "deployment-patch.yaml")
        base = load_yaml(KUBERNETES / "deployment.yaml")
        self.assertEqual(patch["metadata"]["name"], base["metadata"]["name"])
        self.assertEqual(patch["spec"]["replicas"], 2)
        self.assertEqual(patch["spec"]["strategy"]["type"], "RollingUpdate")
        container = patch["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["name"], base["spec"]["template"]["spec"]["containers"][0]["name"])
        store = [e for e in container["env"] if e["name"] == "DYNOHERD_STORE"][0]
        self.assertEqual(store["valueFrom"]["secretKeyRef"]["name"], "dynoherd")
        # A standby answers 503 on /readyz: a rollout gated on it would never finish.
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/healthz")

    def test_the_binary_reads_the_store_from_the_environment(self):
        text = dynoherd("run", "--help").stdout
        self.assertIn("--store", text)
        self.assertIn("DYNOHERD_STORE", text)
        self.assertIn("DYNOHERD_STORE", (SYSTEMD / "README.md").read_text())


class SystemdRecipe(unittest.TestCase):
    UNIT = SYSTEMD / "dynoherd.service"

    def directives(self):
        values = {}
        for line in self.UNIT.read_text().splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                key, value = line.split("=", 1)
                values.setdefault(key, []).append(value)
        return values

    def test_hardening_directives(self):
        d = self.directives()
        for key, value in {
            "DynamicUser": "yes",
            "StateDirectory": "dynoherd",
            "ProtectSystem": "strict",
            "ProtectHome": "yes",
            "NoNewPrivileges": "yes",
            "PrivateTmp": "yes",
            "CapabilityBoundingSet": "",
            "KillSignal": "SIGTERM",
            "TimeoutStopSec": "15",
            "SystemCallFilter": "@system-service",
        }.items():
            with self.subTest(directive=key):
                self.assertIn(value, d.get(key, []))
        self.assertEqual(d["RestrictAddressFamilies"], ["AF_INET AF_INET6 AF_UNIX"])
        self.assertIn("/bin/kill -HUP $MAINPID", d["ExecReload"])
        self.assertTrue(d["EnvironmentFile"])
        # The state file is inside the one writable directory ProtectSystem=strict leaves.
        state = re.search(r"--state (\S+)", d["ExecStart"][0]).group(1)
        self.assertTrue(state.startswith("/var/lib/" + d["StateDirectory"][0] + "/"))

    def test_systemd_analyze_verify(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            # The unit as installed, except that ExecStart points at this build's binary.
            unit = Path(tmp) / "dynoherd.service"
            unit.write_text(self.UNIT.read_text().replace("/usr/local/bin/dynoherd", os.path.abspath(BINARY)))
            result = run([analyze, "verify", "--man=no", str(unit)])
        problems = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            # Without systemd as PID 1 (containers, CI) it cannot check the units it depends on.
            if "System has not been booted with systemd" not in line and "Failed to connect to bus" not in line
        ]
        self.assertEqual(result.returncode, 0, "\n".join(problems))
        self.assertEqual(problems, [])


class DocsLinkRecipes(unittest.TestCase):
    def test_deploy_doc_links_every_recipe(self):
        deploy = (ROOT / "docs" / "deploy.md").read_text()
        for target in (
            "../Dockerfile",
            "../examples/gitops",
            "../examples/heroku",
            "../examples/kubernetes",
            "../examples/systemd",
            "install.md",
        ):
            with self.subTest(link=target):
                self.assertRegex(deploy, rf"\]\({re.escape(target)}/?(#[^)]*)?\)")
        for directory in (GITOPS, HEROKU, KUBERNETES, SYSTEMD):
            with self.subTest(readme=directory.name):
                readme = (directory / "README.md").read_text()
                # "How to use it in three steps or fewer": numbered steps 1. to 3. at most.
                section = re.search(r"^## Use it\b.*?$(.*?)(?=^## |\Z)", readme, re.M | re.S)
                self.assertIsNotNone(section, "no \"## Use it\" section")
                steps = re.findall(r"^(\d+)\. ", section.group(1), re.M)
                self.assertTrue(steps, "no numbered steps")
                self.assertLessEqual(max(map(int, steps)), 3)


if __name__ == "__main__":
    unittest.main()
