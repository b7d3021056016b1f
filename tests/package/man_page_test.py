#!/usr/bin/env python3
"""docs/man/dynoherd.1.in against the binary: its commands are those `dynoherd help` lists, and
the options of each command's section are those of `dynoherd COMMAND --help` (besides -h,
--help, which the page states once for all).

Run by CTest (tests/CMakeLists.txt, test man_page); by hand:
    DYNOHERD_BINARY=build/dynoherd python3 tests/package/man_page_test.py
"""

import os
import re
import subprocess
import unittest
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("DYNOHERD_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BINARY = os.environ.get("DYNOHERD_BINARY", str(SOURCE_DIR / "build" / "dynoherd"))
PAGE = SOURCE_DIR / "docs/man/dynoherd.1.in"
HELP_FLAGS = {"-h", "--help"}
FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def dynoherd(*args):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"dynoherd {' '.join(args)}: {result.stderr}"
    return result.stdout


def help_commands():
    """The commands under "Subcommands:" of `dynoherd help`."""
    section = dynoherd("help").split("Subcommands:\n", 1)[1]
    return {m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]*)\s", section, re.M)}


def help_flags(command):
    """The flags of `dynoherd COMMAND --help`: its option lines start with two spaces and a dash."""
    flags = set()
    for line in dynoherd(command, "--help").splitlines():
        match = re.match(r"^  (-[^\s]+)", line)
        if match:
            flags |= set(match.group(1).split(","))
    return flags - HELP_FLAGS


def plain(roff):
    """Roff text as read: escaped hyphens and quotes plain, font changes dropped."""
    return re.sub(r"\\f[BIRP]", "", roff.replace("\\-", "-")).replace("\\(dq", '"')


def page_sections():
    """{command: roff of its section} for every `.SS "dynoherd COMMAND"` of the page."""
    text = PAGE.read_text()
    commands = text.split("\n.SH COMMANDS\n", 1)[1].split("\n.SH ", 1)[0]
    parts = re.split(r'^\.SS "dynoherd ([a-z-]+)"\n', commands, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def page_flags(section):
    """The flags an options list of a section describes: the tag line after each .TP."""
    tags = re.findall(r"^\.TP\n(.*)$", section, re.M)
    return {flag for tag in tags for flag in FLAG.findall(plain(tag))}


class ManPage(unittest.TestCase):
    def test_commands_are_those_of_dynoherd_help(self):
        commands = help_commands()
        self.assertGreaterEqual(commands, {"help", "validate", "schema", "plan", "reconcile", "status",
                                           "run", "simulate", "analyze"})
        self.assertEqual(set(page_sections()), commands)

    def test_each_command_has_the_options_of_its_help(self):
        sections = page_sections()
        for command in sorted(help_commands()):
            with self.subTest(command=command):
                self.assertEqual(page_flags(sections[command]), help_flags(command))

    def test_the_comparison_sees_options(self):
        self.assertIn("--pushgateway-instance", page_flags(page_sections()["reconcile"]))
        self.assertEqual(help_flags("validate"), {"-f", "--filename", "-a", "--app"})
        self.assertNotIn("--listen", page_flags(page_sections()["plan"]))

    def test_global_options(self):
        top = {f for line in dynoherd("--help").splitlines()
               for f in (re.match(r"^  (-[^\s]+)", line).group(1).split(",")
                         if re.match(r"^  (-[^\s]+)", line) else [])}
        self.assertEqual(top - HELP_FLAGS, {"--version"})
        synopsis = plain(PAGE.read_text().split(".SH SYNOPSIS", 1)[1].split(".SH ", 1)[0])
        self.assertIn("--version", synopsis)

    def test_version_is_filled_in_by_the_build(self):
        self.assertRegex(PAGE.read_text(), r'(?m)^\.TH DYNOHERD 1 "" "dynoherd @PROJECT_VERSION@"')


if __name__ == "__main__":
    unittest.main(verbosity=2)
