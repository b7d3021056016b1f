#!/usr/bin/env python3
"""tools/check_layers.py on small trees: a clean one passes, and each rule it enforces catches the
violation it is there for."""
import pathlib
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in tools/
sys.path.insert(0, str(pathlib.Path(__file__).parent))
import check_layers  # noqa: E402

ARCHITECTURE = """# Architecture

| layer | what lives there | depends on |
|---|---|---|
| `base/` | the bottom | - |
| `mid/` | the middle | base |
| `app/` | the application | base, mid |
| `cli/` | the commands | app, sim |
"""


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self.tmp.name)
        self.write("ARCHITECTURE.md", ARCHITECTURE.replace(
            "| `cli/` | the commands | app, sim |",
            "| `sim/` | the simulator | app |\n| `cli/` | the commands | app, sim |"))
        self.write("CMakeLists.txt", "".join(
            f"add_subdirectory({d})\n" for d in ["base", "mid", "app", "sim", "cli", "tests"]))
        for folder, deps in [("base", ""), ("mid", "dynoherd::base"),
                             ("app", "dynoherd::base dynoherd::mid"), ("sim", "dynoherd::app"),
                             ("cli", "dynoherd::app\n  PRIVATE_DEPS dynoherd::sim fmt::fmt")]:
            self.write(f"{folder}/CMakeLists.txt",
                       f"dynoherd_library({folder}\n  SOURCES a.cc\n  PUBLIC_DEPS {deps})\n")
        self.write("mid/a.cc", '#include "base/x.h"\n#include "mid/a.h"\n')
        self.write("mid/a_test.cc", '#include "base/x.h"\n#include "tests/support/t.h"\n')
        self.write("cli/simulator.cc", '#include "sim/world.h"\n')
        self.write("bench/bench.cc", '#include "sim/world.h"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, relative, text):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def problems(self):
        return check_layers.check(self.root)

    def test_a_clean_tree_passes(self):
        self.assertEqual(self.problems(), [])

    def test_an_include_that_points_up(self):
        self.write("mid/b.cc", '#include "app/pass.h"\n')
        self.assertEqual(self.problems(), ["mid/b.cc: includes app/, which is above mid"])

    def test_an_include_of_a_layer_below_that_is_not_linked(self):
        self.write("cli/c.cc", '#include "mid/a.h"\n')
        self.assertEqual(self.problems(),
                         ["cli/c.cc: includes mid/, which is not among the dependencies of cli"])

    def test_a_test_may_include_below_but_not_above(self):
        self.write("mid/b_test.cc", '#include "app/pass.h"\n')
        self.assertEqual(self.problems(),
                         ["mid/b_test.cc: a test of mid includes app/, which is above it"])

    def test_library_code_never_includes_tests(self):
        self.write("mid/c.cc", '#include "tests/support/t.h"\n')
        self.assertEqual(self.problems(), ["mid/c.cc: includes tests/ outside a test"])

    def test_cmake_dependencies_must_be_the_table_s(self):
        self.write("mid/CMakeLists.txt",
                   "dynoherd_library(mid\n  SOURCES a.cc\n  PUBLIC_DEPS dynoherd::base\n"
                   "  PRIVATE_DEPS dynoherd::app)\n")
        self.assertEqual(self.problems(),
                         ["mid/CMakeLists.txt: links app, base; ARCHITECTURE.md says base"])

    def test_the_table_may_only_point_down(self):
        self.write("ARCHITECTURE.md", ARCHITECTURE.replace("| the bottom | - |", "| the bottom | mid |")
                   .replace("| `cli/` | the commands | app, sim |",
                            "| `sim/` | the simulator | app |\n| `cli/` | the commands | app, sim |"))
        problems = self.problems()
        self.assertIn("ARCHITECTURE.md: base depends on mid, which is not below it", problems)

    def test_the_folders_are_added_in_the_table_s_order(self):
        self.write("CMakeLists.txt", "".join(
            f"add_subdirectory({d})\n" for d in ["base", "app", "mid", "sim", "cli"]))
        self.assertEqual(self.problems(), [
            "CMakeLists.txt: add_subdirectory order base app mid sim cli is not the layer order "
            "base mid app sim cli"])

    def test_only_the_gateway_includes_the_simulator(self):
        self.write("app/runtime.cc", '#include "sim/world.h"\n')
        problems = self.problems()
        self.assertEqual(len(problems), 2)
        self.assertIn("app/runtime.cc: includes sim/, which is above app", problems)
        self.assertIn("app/runtime.cc: includes a simulator header; only cli/simulator.cc may "
                      "(the simulator plugs in through the application layer's seams)", problems)
        self.write("app/runtime.cc", "")
        self.write("tests/e2e_test.cc", '#include "sim/world.h"\n')
        self.assertEqual(len(self.problems()), 1)


if __name__ == "__main__":
    unittest.main()
