#!/usr/bin/env python3
"""Tests of the observability recipes: examples/grafana/dynoherd.json and examples/prometheus/.

Run by CTest (tests/CMakeLists.txt) as three tests, one per group of classes:
  observability_static      PromQLNamesTest DashboardTest AlertRulesTest DocsTest  (only promtool)
  observability_live        LiveMetricsTest      (build/dynoherd on the simulator and on fake-heroku)
  observability_prometheus  LivePrometheusTest   (a real Prometheus scraping build/dynoherd)
Or by hand: tests/observability/observability_test.py [CLASS ...] (DYNOHERD_BUILD_DIR, default build).
Exits 77 (CTest's skip) when every test it ran was skipped.

Processes are children of this one, on 127.0.0.1 only; every wait is bounded by a deadline, and
every child is stopped when its test ends, whatever happened.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "docs"))
import promql_names  # noqa: E402
from markdown_links_test import github_anchors  # noqa: E402  (the links of every doc: tests/docs)

SOURCE_DIR = pathlib.Path(os.environ.get("DYNOHERD_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("DYNOHERD_BUILD_DIR", SOURCE_DIR / "build"))
DASHBOARD = SOURCE_DIR / "examples/grafana/dynoherd.json"
ALERTS = SOURCE_DIR / "examples/prometheus/alerts.yaml"
ALERTS_TEST = SOURCE_DIR / "examples/prometheus/alerts_test.yaml"
SCRAPE_CONFIG = SOURCE_DIR / "examples/prometheus/prometheus.yml"
FIXTURES = SOURCE_DIR / "tests/fixtures/observability"
FAST_SIM = FIXTURES / "fast-sim.yaml"

# Every alert's runbook_url: the address of the rule dynoherd_runbook_info, then the anchor.
RUNBOOK_URL_TEMPLATE = ('{{{{ with query "dynoherd_runbook_info" }}}}{{{{ with . | first | label "url" }}}}'
                        '{{{{ . }}}}#{anchor}{{{{ end }}}}{{{{ end }}}}')

# Series Prometheus makes itself for every target, which the artefacts may read besides
# dynoherd's own: `up` (DynoherdDown).
PROMETHEUS_SERIES = {"up"}


def all_expressions():
    with open(DASHBOARD, encoding="utf-8") as f:
        dashboard = json.load(f)
    with open(ALERTS, encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    return ([(f"dynoherd.json: {w}", e) for w, e in promql_names.dashboard_expressions(dashboard)]
            + [(f"alerts.yaml: {w}", e) for w, e in promql_names.rules_expressions(rules)])


def http_get(url, timeout=5.0):
    """(status, body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(what, check, timeout_s, every_s=0.25):
    """Calls check() until it returns something truthy or `timeout_s` pass; returns the last
    result. The processes polled are real ones running on the wall clock, hence the sleeps."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(every_s)


class Child:
    """A child process whose stderr is collected line by line by a thread."""

    def __init__(self, args, env=None, cwd=None):
        self.args = [str(a) for a in args]
        self.lines = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                     cwd=cwd, text=True)
        self._threads = [threading.Thread(target=self._read, args=(s,), daemon=True)
                         for s in (self.proc.stderr, self.proc.stdout)]
        for t in self._threads:
            t.start()

    def _read(self, stream):
        for line in stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def output(self):
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, pattern, timeout_s):
        """The first match of `pattern` in the output, waiting up to timeout_s; None if the
        process ended or time ran out first."""
        regex = re.compile(pattern)

        def found():
            m = regex.search(self.output())
            return m or (self.proc.poll() is not None and "exited")

        m = poll(pattern, found, timeout_s, every_s=0.05)
        return m if isinstance(m, re.Match) else None

    def stop(self, timeout_s=15):
        """SIGTERM, then SIGKILL after timeout_s; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout_s)
        for t in self._threads:
            t.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return self.proc.returncode


def binary(name):
    path = BUILD_DIR / name
    if not path.exists():
        raise AssertionError(f"{path} is not built (cmake --build {BUILD_DIR} --target {name})")
    return path


def temp_dir(test):
    """A temporary directory removed after every other cleanup (children stopped first)."""
    path = tempfile.mkdtemp(prefix="dynoherd-observability-")
    test.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return pathlib.Path(path)


def start_dynoherd(test, policy, tmp, env=None, port=0):
    """`dynoherd run` on `policy` listening on `port` (0: any free one); returns (child, metrics
    URL). Stopped (and its exit status checked: 0 after SIGTERM, so ASan's leak report would fail
    it) at cleanup."""
    child = Child([binary("dynoherd"), "run", "-f", policy, "--listen", f"127.0.0.1:{port}",
                   "--state", pathlib.Path(tmp) / "state.json"], env=env)

    def stop():
        status = child.stop()
        test.assertEqual(status, 0, f"dynoherd run exited {status}:\n{child.output()[-4000:]}")

    test.addCleanup(stop)
    m = child.wait_for(r'msg="dynoherd is running".*listen=http://127\.0\.0\.1:(\d+)', 30)
    test.assertIsNotNone(m, f"dynoherd run did not start:\n{child.output()[-4000:]}")
    return child, f"http://127.0.0.1:{m.group(1)}/metrics"


def start_fake_heroku(test, tmp):
    """build/fake-heroku on a one-app scenario; returns (port, token)."""
    token = "HRKU-fake-0000-observability"
    scenario = pathlib.Path(tmp) / "scenario.yaml"
    scenario.write_text(f"token: {token}\n"
                        "apps:\n  - name: shop\n    restartDelay: 0s\n"
                        "    formations:\n      - {type: web, quantity: 2}\n")
    port_file = pathlib.Path(tmp) / "fake.port"
    child = Child([binary("fake-heroku"), "--scenario", scenario, "--port-file", port_file])
    test.addCleanup(child.stop)
    port = poll("fake-heroku port", lambda: port_file.exists() and port_file.read_text().strip(),
                20)
    test.assertTrue(port, f"fake-heroku did not start:\n{child.output()}")
    return int(port), token


# ------------------------------------------------------------------------------------------------
class PromQLNamesTest(unittest.TestCase):
    """The tokenizer the name check rests on: it must find every name and only names."""

    def test_names_among_functions_keywords_labels_and_durations(self):
        cases = {
            "dynoherd_formation_quantity": {"dynoherd_formation_quantity"},
            'sum by (policy, le) (rate(a_bucket{policy=~"$policy"}[$__rate_interval]))':
                {"a_bucket"},
            "time() - a > on(policy) 3 * b + 60": {"a", "b"},
            "a >= on(p, f) group_left(x) b and on(p) c == 1": {"a", "b", "c"},
            "sum(rate(a[5m])) without (action) / ignoring(kind) b unless c": {"a", "b", "c"},
            "max_over_time(a[1h:5m]) offset 1h30m @ start() > bool 3e2": {"a"},
            'count_values("by", a{by="on", sum="x"}) or absent(b{job="d"})': {"a", "b"},
            "topk(5, a) AND b # c is a comment\n + d": {"a", "b", "d"},
            '{__name__="named", job="x"} + rec:rule:rate5m': {"named", "rec:rule:rate5m"},
            "histogram_quantile(0.95, sum by (le) (rate(a_bucket[${__rate_interval}])))":
                {"a_bucket"},
            'a{policy=~"${policy:regex}", app=~"[[app]]"} + Inf - NaN': {"a"},
            "vector(1) + scalar(sum(a)) - .5 + 0x1F": {"a"},
        }
        for expr, want in cases.items():
            with self.subTest(expr=expr):
                self.assertEqual(promql_names.metric_names(expr), want)

    def test_unreadable_expressions_are_errors_not_silence(self):
        for expr in ['a{job="x}', "a{job='x'", "sum by (a", "a[5m", "a}", "a ! b"]:
            with self.subTest(expr=expr):
                with self.assertRaises(promql_names.PromQLError):
                    promql_names.metric_names(expr)

    def test_grafana_variable_queries(self):
        v = promql_names.grafana_variable_query
        self.assertEqual(v('label_values(a{p=~"$p", q="x,y"}, app)'), 'a{p=~"$p", q="x,y"}')
        self.assertIsNone(v("label_values(policy)"))
        self.assertEqual(v("query_result(topk(3, a))"), "topk(3, a)")
        self.assertIsNone(v("metrics(dynoherd_.*)"))
        self.assertEqual(v("a{x=\"y\"}"), "a{x=\"y\"}")

    def test_exposition_names_include_histogram_series(self):
        text = ("# HELP h a histogram\n# TYPE h histogram\n"
                'h_bucket{le="0.1"} 1\nh_sum 0.05\nh_count 1\ng{a="b"} 2\nc 3 1700000000\n')
        self.assertEqual(promql_names.exposition_names(text), {"h_bucket", "h_sum", "h_count",
                                                               "g", "c"})

    def test_the_checker_reports_a_name_that_is_not_exported(self):
        """A rules file and a dashboard with a misspelt name: the command line names both."""
        with tempfile.TemporaryDirectory() as tmp:
            metrics = pathlib.Path(tmp) / "metrics.txt"
            metrics.write_text("dynoherd_formation_quantity 1\ndynoherd_formation_max_quantity 2\n"
                               "dynoherd_latency_event_active 0\n")
            r = subprocess.run(
                [sys.executable, pathlib.Path(promql_names.__file__), metrics,
                 FIXTURES / "unknown-metric-rules.yaml", FIXTURES / "unknown-metric-dashboard.json"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(r.stdout.splitlines(), [
                f"{FIXTURES / 'unknown-metric-rules.yaml'}: group 'typos' rule "
                "'FormationAtMaximum': dynoherd_formation_quantiy is not exported",
                f"{FIXTURES / 'unknown-metric-dashboard.json'}: row 'Formations' / panel "
                "'Quantity' target B: dynoherd_formation_desired is not exported",
                f"{FIXTURES / 'unknown-metric-dashboard.json'}: annotation 'Scale changes': "
                "dynoherd_scale_total is not exported",
                f"{FIXTURES / 'unknown-metric-dashboard.json'}: variable 'policy': "
                "dynoherd_formation_quantities is not exported",
            ])
            # The same files against an exposition that has every name: nothing to report.
            metrics.write_text(metrics.read_text() + "dynoherd_formation_quantiy 1\n"
                               "dynoherd_formation_quantities 1\ndynoherd_formation_desired 1\n"
                               "dynoherd_scale_total 1\n")
            r = subprocess.run(
                [sys.executable, pathlib.Path(promql_names.__file__), metrics,
                 FIXTURES / "unknown-metric-rules.yaml", FIXTURES / "unknown-metric-dashboard.json"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)


# ------------------------------------------------------------------------------------------------
class DashboardTest(unittest.TestCase):
    """What Grafana would reject or silently get wrong, checked without a Grafana."""

    @classmethod
    def setUpClass(cls):
        with open(DASHBOARD, encoding="utf-8") as f:
            cls.dashboard = json.load(f)

    def panels(self):
        out = []
        for p in self.dashboard["panels"]:
            out.append(p)
            out += p.get("panels", [])
        return out

    def test_shape(self):
        d = self.dashboard
        self.assertGreaterEqual(d["schemaVersion"], 36)
        self.assertEqual(d["uid"], "dynoherd")
        ids = [p["id"] for p in self.panels()]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in self.panels():
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            if p["type"] != "row":
                self.assertTrue(p.get("targets"), f"panel {p['title']} has no query")
                self.assertEqual(p["datasource"], {"type": "prometheus", "uid": "${datasource}"})
                for t in p["targets"]:
                    self.assertEqual(t["datasource"], p["datasource"])
                    self.assertTrue(t["expr"].strip())

    def test_variables_are_defined_and_chained(self):
        variables = {v["name"]: v for v in self.dashboard["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        for name in ("policy", "app", "formation"):
            self.assertEqual(variables[name]["type"], "query")
            self.assertTrue(variables[name]["multi"] and variables[name]["includeAll"])
            self.assertIn(f"label_values(dynoherd_formation_quantity",
                          variables[name]["query"]["query"])
        # app narrows by the chosen policies, formation by policies and apps.
        self.assertIn('policy=~"$policy"', variables["app"]["query"]["query"])
        self.assertIn('app=~"$app"', variables["formation"]["query"]["query"])
        # Every variable a query or title uses exists (Grafana's own $__ ones aside).
        used = set()
        texts = [e for _, e in promql_names.dashboard_expressions(self.dashboard)]
        texts += [p.get("title", "") for p in self.panels()]
        texts += [p.get("repeat", "") and f"${p['repeat']}" for p in self.panels()]
        for text in texts:
            used |= set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))
        self.assertEqual({u for u in used if not u.startswith("__")} - set(variables), set())
        self.assertEqual({"policy", "app", "formation", "statistic"} - used, set())

    def test_the_panels_the_issue_asks_for(self):
        exprs = " ".join(e for _, e in promql_names.dashboard_expressions(self.dashboard))
        for name in ["dynoherd_formation_quantity", "dynoherd_formation_desired_quantity",
                     "dynoherd_formation_baseline_quantity", "dynoherd_formation_max_quantity",
                     "dynoherd_formation_latency_seconds",
                     "dynoherd_formation_latency_threshold_seconds",
                     "dynoherd_dyno_latency_seconds", "dynoherd_dyno_zscore",
                     "dynoherd_latency_event_active", "dynoherd_latency_event_depth",
                     "dynoherd_latency_event_duration_seconds",
                     "dynoherd_latency_event_max_duration_seconds",
                     "dynoherd_heroku_ratelimit_remaining", "dynoherd_reconcile_total",
                     "dynoherd_reconcile_duration_seconds_bucket"]:
            self.assertIn(name, exprs)
        annotations = {a["name"]: a for a in self.dashboard["annotations"]["list"]}
        self.assertIn("increase(dynoherd_dyno_restarts_total", annotations["Restarts"]["expr"])
        self.assertIn("increase(dynoherd_scale_changes_total",
                      annotations["Scale changes"]["expr"])
        for a in ("Restarts", "Scale changes"):
            self.assertEqual(annotations[a]["datasource"]["uid"], "${datasource}")


# ------------------------------------------------------------------------------------------------
class AlertRulesTest(unittest.TestCase):
    """promtool on the rules and their unit tests, and the runbook links."""

    @classmethod
    def setUpClass(cls):
        cls.promtool = shutil.which("promtool")
        with open(ALERTS, encoding="utf-8") as f:
            cls.rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        cls.alerts = [r for r in cls.rules if "alert" in r]

    def promtool_run(self, *args):
        if not self.promtool:
            self.skipTest("promtool not found (Debian package prometheus; make deps installs it)")
        return subprocess.run([self.promtool, *args], capture_output=True, text=True, timeout=120,
                              cwd=ALERTS.parent)

    def test_promtool_check_rules(self):
        r = self.promtool_run("check", "rules", ALERTS.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"SUCCESS: {len(self.rules)} rules found", r.stdout)

    def test_promtool_check_config_of_the_scrape_example(self):
        r = self.promtool_run("check", "config", SCRAPE_CONFIG.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"SUCCESS: {len(self.rules)} rules found", r.stdout)

    def test_promtool_test_rules(self):
        r = self.promtool_run("test", "rules", ALERTS_TEST.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_every_alert_is_unit_tested_firing_and_not_firing(self):
        with open(ALERTS_TEST, encoding="utf-8") as f:
            tests = yaml.safe_load(f)["tests"]
        firing, quiet = set(), set()
        for t in tests:
            for case in t.get("alert_rule_test", []):
                (firing if case["exp_alerts"] else quiet).add(case["alertname"])
        names = {r["alert"] for r in self.alerts}
        self.assertEqual(names - firing, set(), "alerts never shown firing")
        self.assertEqual(names - quiet, set(), "alerts never shown quiet")

    def test_a_broken_rule_fails_the_unit_tests(self):
        """The unit tests can fail: the same tests against rules with a changed threshold."""
        with tempfile.TemporaryDirectory() as tmp:
            text = ALERTS.read_text()
            self.assertIn("dynoherd_heroku_ratelimit_remaining < 600", text)
            (pathlib.Path(tmp) / ALERTS.name).write_text(
                text.replace("dynoherd_heroku_ratelimit_remaining < 600",
                             "dynoherd_heroku_ratelimit_remaining < 400"))
            shutil.copy(ALERTS_TEST, tmp)
            if not self.promtool:
                self.skipTest("promtool not found (Debian package prometheus)")
            r = subprocess.run([self.promtool, "test", "rules", ALERTS_TEST.name], cwd=tmp,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("alertname: DynoherdHerokuApiBudgetLow, time: 13m", r.stdout + r.stderr)

    def test_annotations_and_runbook_anchors(self):
        headings = github_anchors((SOURCE_DIR / "docs/operations.md").read_text())
        for rule in self.alerts:
            with self.subTest(alert=rule["alert"]):
                a = rule["annotations"]
                self.assertTrue(a.get("summary") and a.get("description"))
                self.assertIn(rule["labels"]["severity"], ("warning", "critical"))
                # The runbook's address and the alert's anchor in docs/operations.md.
                anchor = rule["alert"].lower()
                self.assertEqual(a["runbook_url"], RUNBOOK_URL_TEMPLATE.format(anchor=anchor))
                self.assertIn(anchor, headings, f"no heading for #{anchor} in docs/operations.md")

    def test_the_runbook_address_is_set_in_one_place(self):
        records = [r for r in self.rules if r.get("record") == "dynoherd_runbook_info"]
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["expr"], "vector(1)")
        self.assertEqual(records[0]["labels"], {"url": ""})  # unset here: no dead link
        self.assertEqual(len(self.rules), len(self.alerts) + 1)
        self.assertNotIn("docs/operations.md#", ALERTS.read_text())  # no relative link left

    def test_runbook_urls_with_the_address_set(self):
        """The package sets the address (cmake/runbook_url.cmake): every alert then links to its
        section of the runbook, absolute."""
        cmake = shutil.which("cmake")
        if not cmake or not self.promtool:
            self.skipTest("needs cmake and promtool")
        base = "https://github.com/acme/dynoherd/blob/v0.1.0/docs/operations.md"
        with tempfile.TemporaryDirectory() as tmp:
            alerts = pathlib.Path(tmp) / ALERTS.name
            shutil.copy(ALERTS, alerts)
            r = subprocess.run([cmake, f"-DFILE={alerts}", "-DREPOSITORY_URL=https://github.com/acme/dynoherd",
                                "-DREF=v0.1.0", "-P", SOURCE_DIR / "cmake/runbook_url.cmake"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f'url: "{base}"', alerts.read_text())
            with open(ALERTS_TEST, encoding="utf-8") as f:
                tests = yaml.safe_load(f)
            expected = 0
            for t in tests["tests"]:
                for case in t.get("alert_rule_test", []):
                    for alert in case["exp_alerts"]:
                        alert["exp_annotations"]["runbook_url"] = f"{base}#{case['alertname'].lower()}"
                        expected += 1
            self.assertGreater(expected, 8)
            (pathlib.Path(tmp) / ALERTS_TEST.name).write_text(yaml.safe_dump(tests))
            r = subprocess.run([self.promtool, "test", "rules", ALERTS_TEST.name], cwd=tmp,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class DocsTest(unittest.TestCase):
    """The recipes' READMEs take three steps or fewer (links: tests/docs/markdown_links_test.py)."""

    DOCS = ["docs/observability.md", "examples/grafana/README.md", "examples/prometheus/README.md"]

    def test_readmes_take_three_steps_or_fewer(self):
        for doc in self.DOCS[1:]:
            steps = re.findall(r"^\d+\. ", (SOURCE_DIR / doc).read_text(), re.M)
            self.assertTrue(1 <= len(steps) <= 3, f"{doc}: {len(steps)} steps")


# ------------------------------------------------------------------------------------------------
class LiveMetricsTest(unittest.TestCase):
    """Every metric name the dashboard and the alerts read is one dynoherd really exports: the
    live /metrics of `dynoherd run` on the simulator (which restarts a laggard, scales for a
    surge and passes an event's maxDuration within seconds) and on fake-heroku (the Platform API
    metrics a simulated run never sets). No name is taken on trust from the docs."""

    def scrape_until(self, url, wanted, timeout_s):
        """Scrapes `url` until every name in `wanted` is exported or time runs out; returns the
        names exported by the last scrape."""
        last = set()

        def check():
            nonlocal last
            status, body = http_get(url)
            if status == 200:
                last = promql_names.exposition_names(body)
            return wanted <= last

        poll("metrics", check, timeout_s)
        return last

    def test_every_name_read_is_exported(self):
        expressions = all_expressions()
        self.assertGreater(len(expressions), 30)
        read = set()
        for _, expr in expressions:
            read |= promql_names.metric_names(expr)
        heroku_only = {n for n in read if n.startswith("dynoherd_heroku_")}
        self.assertEqual(heroku_only, {"dynoherd_heroku_ratelimit_remaining",
                                       "dynoherd_heroku_requests_total"})
        tmp = temp_dir(self)
        _, url = start_dynoherd(self, FAST_SIM, tmp)
        sim_names = self.scrape_until(url, read - heroku_only - PROMETHEUS_SERIES, 40)

        port, token = start_fake_heroku(self, tmp)
        policy = tmp / "shop.yaml"
        policy.write_text("apiVersion: dynoherd/v1\nkind: FormationPolicy\n"
                          "metadata: {name: shop}\nspec:\n  app: shop\n  interval: 10s\n"
                          "  formations:\n    - {type: web, quantity: 2}\n")
        heroku_dir = tmp / "heroku"
        heroku_dir.mkdir()
        _, heroku_url = start_dynoherd(
            self, policy, heroku_dir,
            env={"HEROKU_API_URL": f"http://127.0.0.1:{port}", "HEROKU_API_KEY": token})
        heroku_names = self.scrape_until(heroku_url, heroku_only, 30)

        exported = sim_names | heroku_names | PROMETHEUS_SERIES
        unknown = promql_names.unknown_names(expressions, exported)
        self.assertEqual(unknown, [], "names read but not exported (live /metrics)")


# ------------------------------------------------------------------------------------------------
class LivePrometheusTest(unittest.TestCase):
    """Debian's prometheus scrapes `dynoherd run` on the simulator every second with the alert
    rules loaded; its HTTP API must show the formation, a scale change, the rules evaluating
    cleanly, an alert firing, and every dashboard query answering."""

    TIMEOUT_S = 60

    def query(self, promql, since=None):
        """An instant query, or with `since` (Unix time) a range query from then to now, one
        step a second, as a Grafana panel asks."""
        if since is None:
            url = f"{self.api}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        else:
            url = f"{self.api}/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": promql, "start": since, "end": time.time(), "step": "1s"})
        status, body = http_get(url)
        if status == 0:
            return None
        answer = json.loads(body)
        self.assertEqual(answer["status"], "success", f"{promql}: {body}")
        return answer["data"]["result"]

    def start_prometheus(self, tmp, target):
        binary_path = shutil.which("prometheus")
        if not binary_path:
            self.skipTest("prometheus not found (Debian package prometheus; make deps installs it)")
        # examples/prometheus/prometheus.yml itself, made fast and pointed at the test's dynoherd.
        with open(SCRAPE_CONFIG, encoding="utf-8") as f:
            example = yaml.safe_load(f)
        example["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        example["rule_files"] = [str(SCRAPE_CONFIG.parent / r) for r in example["rule_files"]]
        jobs = [j for j in example["scrape_configs"] if j["job_name"] == "dynoherd"]
        self.assertEqual(len(jobs), 1, "prometheus.yml has no job_name: dynoherd")
        jobs[0]["static_configs"] = [{"targets": [target]}]
        config = pathlib.Path(tmp) / "prometheus.yml"
        config.write_text(yaml.safe_dump(example))
        for _ in range(3):  # the port was free a moment ago; another process may take it first
            port = free_port()
            child = Child([binary_path, f"--config.file={config}",
                           f"--storage.tsdb.path={pathlib.Path(tmp) / 'data'}",
                           f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                           # scrape from the first second, not after the default 5 s
                           "--scrape.discovery-reload-interval=100ms"])
            self.api = f"http://127.0.0.1:{port}"
            ready = poll("prometheus ready",
                         lambda: http_get(f"{self.api}/-/ready")[0] == 200
                         or child.proc.poll() is not None, 30)
            if ready and child.proc.poll() is None:
                self.addCleanup(child.stop)
                return child
            child.stop()
            if "address already in use" not in child.output():
                self.fail(f"prometheus did not start:\n{child.output()[-4000:]}")
        self.fail("prometheus found no free port in 3 tries")

    def test_prometheus_scrapes_dynoherd_and_sees_a_scale_change(self):
        tmp = temp_dir(self)
        # Prometheus first, with its target ready before dynoherd starts (it finds static targets
        # about 5 s after it starts), so that it scrapes the simulated world from its first
        # seconds: the restart comes 4 s in.
        port = free_port()
        prometheus = self.start_prometheus(tmp, f"127.0.0.1:{port}")
        self.assertTrue(poll("target", lambda: f"127.0.0.1:{port}" in http_get(
            f"{self.api}/api/v1/targets")[1], 30), "Prometheus never listed its target")
        started_at = time.time()
        _, metrics_url = start_dynoherd(self, FAST_SIM, tmp, port=port)
        self.assertEqual(metrics_url, f"http://127.0.0.1:{port}/metrics",
                         "the port was taken between choosing it and dynoherd binding it")
        deadline = time.monotonic() + self.TIMEOUT_S

        def left():
            return max(0.0, deadline - time.monotonic())

        quantity = poll("quantity", lambda: self.query(
            'dynoherd_formation_quantity{job="dynoherd", policy="observe", '
            'app="observe-shop", formation="web"}'), left())
        self.assertTrue(quantity, f"no dynoherd_formation_quantity in Prometheus:\n"
                                  f"{prometheus.output()[-2000:]}")
        # The declared baseline: Prometheus is scraping before the surge (12 wall seconds in).
        self.assertEqual(quantity[0]["value"][1], "4", "Prometheus started after the surge")

        scaled = poll("scale change", lambda: self.query(
            'dynoherd_scale_changes_total{job="dynoherd", formation="web", direction="up"} > 0'),
            left())
        self.assertTrue(scaled, "Prometheus saw no scale change")
        changed = poll("quantity change", lambda: self.query(
            'changes(dynoherd_formation_quantity{job="dynoherd", formation="web"}[5m]) > 0'),
            left())
        self.assertTrue(changed, "Prometheus saw the counter but not the quantity change")
        more = self.query('dynoherd_formation_quantity{formation="web"} > 4')
        self.assertTrue(more, "the surge should have added web dynos")

        # The event passes its maxDuration (1m, 2 wall seconds at speed 30): the alert fires.
        firing = poll("alert", lambda: self.query(
            'ALERTS{alertname="DynoherdLatencyEventTooLong", alertstate="firing", '
            'formation="web"}'), left())
        self.assertTrue(firing, "DynoherdLatencyEventTooLong never fired")
        self.assertEqual(firing[0]["metric"]["severity"], "critical")
        self.assertEqual(self.query('ALERTS{alertname="DynoherdDown"}'), [])

        self.check_rules_evaluate_cleanly()
        self.check_dashboard_queries(started_at)

    def check_rules_evaluate_cleanly(self):
        """Evaluation errors (e.g. many-to-many matching) only show with real series."""
        status, body = http_get(f"{self.api}/api/v1/rules")
        self.assertEqual(status, 200, body)
        rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
        with open(ALERTS, encoding="utf-8") as f:
            self.assertEqual(len(rules), sum(len(g["rules"]) for g in yaml.safe_load(f)["groups"]))
        for r in rules:
            self.assertEqual(r.get("health"), "ok", f"{r['name']}: {r.get('lastError')}")

    def check_dashboard_queries(self, since):
        """Every dashboard query, with its variables set to match everything, runs over the
        test's time range; all but those reading the Platform API metrics (never set in a
        simulated run) return series. (Laggard scores, for one, exist only outside latency
        events; the Restarts and Scale changes annotations see the first restart and scale
        because those counters start at 0.)"""
        with open(DASHBOARD, encoding="utf-8") as f:
            dashboard = json.load(f)
        values = {"policy": ".*", "app": ".*", "formation": ".*", "statistic": "p50",
                  "__rate_interval": "4s", "__interval": "1s", "__range": "1m"}

        def substitute(expr):
            return re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], expr)

        empty = []
        for where, expr in promql_names.dashboard_expressions(dashboard):
            result = self.query(substitute(expr), since=since)
            self.assertIsNotNone(result, f"{where}: no answer")
            reads_heroku = any(n.startswith("dynoherd_heroku_")
                               for n in promql_names.metric_names(expr))
            if not result and not reads_heroku:
                empty.append(where)
        self.assertEqual(empty, [], "dashboard queries without data on a simulated run")


def main():
    names = sys.argv[1:] or None
    loader = unittest.defaultTestLoader
    module = sys.modules[__name__]
    suite = (loader.loadTestsFromNames(names, module) if names
             else loader.loadTestsFromModule(module))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    return 77 if result.testsRun and len(result.skipped) == result.testsRun else 0


if __name__ == "__main__":
    sys.exit(main())
