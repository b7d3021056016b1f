#!/usr/bin/env python3
"""The Debian package: built by CPack from this build's binary, read with dpkg-deb, installed
with dpkg into a throwaway root, and the installed dynoherd run.

Why this build's binary and not `make package`'s: the package is the install rules and the CPack
configuration of cmake/packaging.cmake, the same in every build directory, so packaging the
binary `make test` has already built tests them without compiling dynoherd a second time (a
Release build costs minutes); it takes about three seconds. Only the build type differs, which
`--version` shows and nothing in the package depends on.

Run by CTest (tests/CMakeLists.txt, test package_deb) with DYNOHERD_BUILD_DIR, CPACK,
DYNOHERD_VERSION and DYNOHERD_REPOSITORY_URL set; exits 77 (CTest's skip) when dpkg-deb is not
installed, i.e. not on Debian. By hand: DYNOHERD_BUILD_DIR=build python3 tests/package/package_test.py
"""

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("DYNOHERD_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("DYNOHERD_BUILD_DIR", SOURCE_DIR / "build"))
CPACK = os.environ.get("CPACK", "cpack")
VERSION = os.environ.get("DYNOHERD_VERSION") or re.search(
    r"project\(dynoherd VERSION (\S+)", (SOURCE_DIR / "CMakeLists.txt").read_text()).group(1)
REPOSITORY_URL = os.environ.get("DYNOHERD_REPOSITORY_URL", "")

# The runtime libraries of issue 15, by Debian package; the rest of Depends comes from the
# libraries the binary links (checked below), so a library linked later is required too.
CORE_RUNTIME_PACKAGES = {"libyaml-cpp0.7", "libcurl4", "libfmt9", "libprometheus-cpp-core1.0",
                         "libcpp-httplib0.11"}
# In every Debian system and image (debian:bookworm-slim included): docs need not list them.
BASE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


def run(args, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def checked(args, **kwargs):
    result = run(args, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


def dependency_names(depends):
    """Package names of a Depends field: 'a (>= 1), b | c' gives {'a', 'b', 'c'}."""
    return {alt.strip().split()[0] for dep in depends.split(",") for alt in dep.split("|")}


def install_root(deb, tmp):
    """A throwaway root with `deb` installed by dpkg, its dependencies satisfied by the stanzas
    of this machine's own installed packages (so dpkg checks Depends against real versions;
    their files are not needed: the installed binary runs on this machine's libraries)."""
    root = Path(tempfile.mkdtemp(dir=tmp))
    admin = root / "var/lib/dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True)
    (admin / "available").touch()
    depends = checked(["dpkg-deb", "-f", deb, "Depends"]).stdout
    stanzas = []
    for name in sorted(dependency_names(depends)):
        status = run(["dpkg-query", "-s", name])
        if status.returncode == 0 and "Status: install ok installed" in status.stdout:
            stanzas.append(status.stdout.strip() + "\n")
    (admin / "status").write_text("\n".join(stanzas))
    # Maintainer scripts run outside the root with DPKG_ROOT set, and do nothing then.
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    result = checked(["dpkg", f"--root={root}", "--log=/dev/null", "--force-not-root",
                      "--force-script-chrootless", "-i", deb], env=env)
    return root, result, env


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [t for t in ("dpkg-shlibdeps", "file") if not shutil.which(t)]
        if missing:
            raise AssertionError(f"{' and '.join(missing)} missing (bash tools/install-deps.sh package)")
        cls.tmp = tempfile.mkdtemp(prefix="dynoherd-package-")
        # Its own output directory: a `make package` result in build/ is left alone.
        cls.cpack = checked([CPACK, "-G", "DEB", "--config", BUILD_DIR / "CPackConfig.cmake",
                             "-B", Path(cls.tmp) / "out"], timeout=280)
        arch = checked(["dpkg", "--print-architecture"]).stdout.strip()
        cls.deb = Path(cls.tmp) / "out" / f"dynoherd_{VERSION}_{arch}.deb"
        cls.info = checked(["dpkg-deb", "-I", cls.deb]).stdout
        cls.fields = {}
        for line in cls.info.splitlines():
            match = re.match(r"^ ([A-Z][A-Za-z-]+): (.*)$", line)
            if match:
                cls.fields[match.group(1)] = match.group(2)
        listing = checked(["dpkg-deb", "-c", cls.deb]).stdout.splitlines()
        cls.contents = {line.split(None, 5)[5].split(" -> ")[0].removeprefix(".") for line in listing}
        cls.root, cls.install, cls.env = install_root(cls.deb, cls.tmp)
        cls.binary = cls.root / "usr/bin/dynoherd"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def installed(self, *args):
        return run([self.binary, *map(str, args)], cwd=self.tmp)

    # --- dpkg-deb -I ---------------------------------------------------------------------------

    def test_file_name_and_control_fields(self):
        self.assertTrue(self.deb.exists(), self.cpack.stdout)
        self.assertEqual(self.fields["Package"], "dynoherd")
        self.assertEqual(self.fields["Version"], VERSION)
        self.assertEqual(self.fields["Architecture"], self.deb.stem.rsplit("_", 1)[1])
        self.assertEqual(self.fields["Section"], "admin")
        self.assertEqual(self.fields["Priority"], "optional")
        self.assertRegex(self.fields["Maintainer"], r"^[^<>]+ <[^<>@\s]+@[^<>\s]+>$")
        self.assertEqual(self.fields["Description"], "reconciling operator for Heroku formations")
        self.assertIn("FormationPolicy", self.info)
        self.assertGreater(int(self.fields["Installed-Size"]), 1000)
        if REPOSITORY_URL:
            self.assertEqual(self.fields["Homepage"], REPOSITORY_URL)
        else:  # no origin remote, nothing set: no made-up address
            self.assertNotIn("Homepage", self.fields)

    def test_depends_cover_the_linked_libraries(self):
        depends = self.fields["Depends"]
        names = dependency_names(depends)
        self.assertLessEqual(CORE_RUNTIME_PACKAGES | {"ca-certificates"}, names, depends)
        # dpkg-shlibdeps gives versions: the ones built against, or newer.
        self.assertRegex(depends, r"libc6 \(>= [0-9.]+\)")
        # Every library the binary links, by the package that owns it on this machine.
        needed = re.findall(r"^\s*NEEDED\s+(\S+)", checked(["objdump", "-p", self.binary]).stdout, re.M)
        self.assertIn("libcurl.so.4", needed)
        libraries = checked(["ldd", self.binary]).stdout
        owners = set()
        for lib in needed:
            path = re.search(rf"^\s*{re.escape(lib)} => (\S+)", libraries, re.M).group(1)
            owner = run(["dpkg", "-S", os.path.realpath(path)])
            if owner.returncode != 0:  # merged /usr: dpkg knows the /lib path
                owner = checked(["dpkg", "-S", path])
            owners.add(owner.stdout.split(":", 1)[0])
        self.assertLessEqual(owners, names, "linked libraries missing from Depends")
        # Nothing of the build or the tests.
        self.assertFalse({n for n in names if n.endswith("-dev")} | ({"doctest", "prometheus"} & names))

    def test_install_doc_lists_the_depends(self):
        text = (SOURCE_DIR / "docs/install.md").read_text()
        table = text.split("## What the binary needs at run time", 1)[1].split("\n## ", 1)[0]
        listed = set(re.findall(r"^\| `([a-z0-9.+-]+)` \|", table, re.M))
        self.assertEqual(listed, dependency_names(self.fields["Depends"]) - BASE_PACKAGES)

    def test_maintainer_scripts_never_enable_the_unit(self):
        control = Path(self.tmp) / "control"
        checked(["dpkg-deb", "-e", self.deb, control])
        self.assertEqual(sorted(p.name for p in control.iterdir() if p.name not in ("control", "md5sums")),
                         ["postinst", "postrm", "prerm"])
        for script in ("postinst", "postrm", "prerm"):
            text = (control / script).read_text()
            with self.subTest(script=script):
                self.assertNotRegex(text, r"\b(enable|start)\b")
                self.assertIn('[ -z "${DPKG_ROOT:-}" ]', text)  # nothing when installing elsewhere
                self.assertEqual(run(["sh", "-n", control / script]).returncode, 0)
                self.assertTrue(os.access(control / script, os.X_OK))

    # --- dpkg-deb -c ---------------------------------------------------------------------------

    def test_contents(self):
        for path in ("/usr/bin/dynoherd",
                     "/usr/share/man/man1/dynoherd.1.gz",
                     "/lib/systemd/system/dynoherd.service",
                     "/usr/share/dynoherd/formationpolicy.schema.json",
                     "/usr/share/doc/dynoherd/copyright",
                     "/usr/share/doc/dynoherd/README.md",
                     "/usr/share/doc/dynoherd/docs/operations.md",
                     "/usr/share/doc/dynoherd/docs/formationpolicy.schema.json",
                     "/usr/share/doc/dynoherd/examples/demo.yaml",
                     "/usr/share/doc/dynoherd/examples/prometheus/alerts.yaml",
                     "/usr/share/doc/dynoherd/examples/gitops/.github/workflows/dynoherd-plan.yml"):
            with self.subTest(path=path):
                self.assertIn(path, self.contents)
        # Every documentation page and every example of the checkout.
        for page in (SOURCE_DIR / "docs").glob("*.md"):
            self.assertIn(f"/usr/share/doc/dynoherd/docs/{page.name}", self.contents)
        examples = [p for p in (SOURCE_DIR / "examples").rglob("*") if p.is_file()]
        self.assertGreater(len(examples), 20)
        for example in examples:
            self.assertIn(f"/usr/share/doc/dynoherd/{example.relative_to(SOURCE_DIR)}", self.contents)
        outside = sorted(p for p in self.contents
                         if not p.startswith(("/usr/", "/lib/systemd/system/"))
                         and p not in ("/", "/lib/", "/lib/systemd/"))
        self.assertEqual(outside, [], "files outside /usr and /lib/systemd/system")
        self.assertFalse([p for p in self.contents if p.startswith(("/etc/", "/usr/local/"))])

    def test_binary_is_stripped(self):
        description = checked(["file", "-L", self.binary]).stdout
        self.assertIn("ELF 64-bit", description)
        self.assertRegex(description, r"\bstripped\b")
        self.assertNotIn("not stripped", description)
        self.assertNotIn("with debug_info", description)
        self.assertLess(self.binary.stat().st_size, 10 * 1024 * 1024)

    def test_man_page(self):
        with gzip.open(self.root / "usr/share/man/man1/dynoherd.1.gz", "rt") as f:
            page = f.read()
        self.assertIn(f'.TH DYNOHERD 1 "" "dynoherd {VERSION}"', page)
        self.assertEqual(re.findall(r"@[A-Z_]+@", page), [])  # every @VARIABLE@ filled in
        man = shutil.which("man")
        if man:
            shown = checked([man, "-l", self.root / "usr/share/man/man1/dynoherd.1.gz"],
                            env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
            self.assertIn("dynoherd - reconciling operator for Heroku formations", shown.stdout)

    def test_systemd_unit_runs_the_installed_binary(self):
        unit = (self.root / "lib/systemd/system/dynoherd.service").read_text()
        source = (SOURCE_DIR / "examples/systemd/dynoherd.service").read_text()
        self.assertEqual(unit, source.replace("/usr/local/bin/dynoherd", "/usr/bin/dynoherd"))
        self.assertIn("ExecStart=/usr/bin/dynoherd run ", unit)
        self.assertNotIn("/usr/local", unit)

    def test_copyright(self):
        text = (self.root / "usr/share/doc/dynoherd/copyright").read_text()
        self.assertTrue(text.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"))
        # The header-only libraries compiled into the binary, with their license texts.
        for name in ("nlohmann/json", "CLI11", "License: Expat\n", "License: BSD-3-clause\n"):
            self.assertIn(name, text)

    def test_runbook_address_of_the_installed_alerts(self):
        alerts = (self.root / "usr/share/doc/dynoherd/examples/prometheus/alerts.yaml").read_text()
        url = re.search(r'record: dynoherd_runbook_info\n.*?url: "([^"]*)"', alerts, re.S).group(1)
        if REPOSITORY_URL:
            self.assertRegex(url, rf"^{re.escape(REPOSITORY_URL)}/blob/[0-9a-f]{{40}}/docs/operations\.md$")
        else:
            self.assertEqual(url, "")
        checkout = (SOURCE_DIR / "examples/prometheus/alerts.yaml").read_text()
        self.assertEqual(re.sub(r'url: "[^"]*"', 'url: ""', alerts, count=1), checkout)

    # --- dpkg -i into a throwaway root ---------------------------------------------------------

    def test_dpkg_installs_it_with_its_dependencies_satisfied(self):
        self.assertIn(f"Setting up dynoherd ({VERSION})", self.install.stdout)
        self.assertNotIn("dependency problems", self.install.stdout + self.install.stderr)
        status = checked(["dpkg", f"--root={self.root}", "-s", "dynoherd"]).stdout
        self.assertIn("Status: install ok installed", status)

    def test_installed_binary_runs(self):
        version = self.installed("--version")
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertRegex(version.stdout,
                         rf"^dynoherd {re.escape(VERSION)} \(commit ([0-9a-f]{{12}}(-dirty)?|unknown), \w+\)\n$")

        examples = self.root / "usr/share/doc/dynoherd/examples"
        for policy in ("demo.yaml", "shop-web.yaml", "shop-worker.yaml", "heroku/policies"):
            with self.subTest(policy=policy):
                result = self.installed("validate", "-f", examples / policy)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertRegex(result.stdout, r"^\d+ polic(y|ies) valid\n$")

        schema = self.installed("schema")
        self.assertEqual(schema.stdout, (self.root / "usr/share/dynoherd/formationpolicy.schema.json").read_text())

    def test_purge_leaves_nothing(self):
        root, _, env = install_root(self.deb, self.tmp)
        checked(["dpkg", f"--root={root}", "--log=/dev/null", "--force-not-root",
                 "--force-script-chrootless", "--purge", "dynoherd"], env=env)
        left = [p for p in root.rglob("*") if p.is_file() and "var/lib/dpkg" not in p.as_posix()]
        self.assertEqual(left, [])


class RepositoryUrl(unittest.TestCase):
    """cmake/repository_url.cmake: the package's Homepage from the checkout's origin remote."""

    def web_url(self, remote):
        result = checked(["cmake", f"-DREMOTE={remote}", "-P", SOURCE_DIR / "cmake/repository_url.cmake"])
        return result.stderr.strip()  # message() writes to stderr

    def test_remotes(self):
        for remote, url in {
            "git@github.com:acme/dynoherd.git": "https://github.com/acme/dynoherd",
            "ssh://git@github.com/acme/dynoherd.git": "https://github.com/acme/dynoherd",
            "https://github.com/acme/dynoherd.git": "https://github.com/acme/dynoherd",
            "https://gitlab.example.org/ops/tools/dynoherd/": "https://gitlab.example.org/ops/tools/dynoherd",
            # Credentials in a remote never reach the package.
            "https://x-access-token:s3cret@github.com/acme/dynoherd.git": "https://github.com/acme/dynoherd",
            # Not on a web host: no address rather than a wrong one.
            "/srv/git/dynoherd.git": "",
            "file:///srv/git/dynoherd.git": "",
            "../dynoherd": "",
        }.items():
            with self.subTest(remote=remote):
                self.assertEqual(self.web_url(remote), url)


if __name__ == "__main__":
    if not shutil.which("dpkg-deb"):
        print("SKIP: dpkg-deb is not installed (not a Debian system): no package to test")
        sys.exit(77)
    unittest.main(verbosity=2)
