#!/usr/bin/env python3
"""The metric names a PromQL expression reads, and where the expressions of a Grafana dashboard
and a Prometheus rules file are.

promtool parses PromQL but cannot list the names it reads, so this is a small tokenizer of its own.
It knows enough PromQL to tell a metric name from everything else that looks like an identifier:
function and aggregation names (followed by `(`, or by `by`/`without`), keywords (`and`, `offset`,
`bool`, ...), label names (inside `{...}` before a matcher, and the lists after `by`, `without`,
`on`, `ignoring`, `group_left`, `group_right`), durations (`5m`, `1h30m`), numbers, strings and
comments. Grafana's variables (`$policy`, `${app:regex}`, `[[formation]]`, `$__rate_interval`) and
its `label_values(QUERY, LABEL)` / `query_result(QUERY)` variable queries are understood too.

Usage: promql_names.py METRICS_FILE ARTEFACT...
  METRICS_FILE is a Prometheus text exposition (what /metrics answered); each ARTEFACT is a Grafana
  dashboard (.json) or a rules file (.yaml/.yml). Prints every metric name an expression reads that
  the exposition does not hold, with where it was found, and exits 1 if there is any (0 otherwise,
  2 for unreadable input).
"""
import json
import re
import sys

# Words that are never metric names where they appear without a following `(`.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "atan2", "inf", "nan", "start", "end",
}
# Aggregation operators: `sum by (x) (...)` puts a keyword, not `(`, right after the name.
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "limitk", "limit_ratio",
}
# Keywords whose parenthesised argument is a list of label names.
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)[A-Za-z0-9_]*")
# Grafana: ${name}, ${name:format}, ${name.field}, $name, [[name]], [[name:format]].
_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]*\]\]")
_GRAFANA_VAR_QUERY = re.compile(r"^\s*(label_values|query_result|metrics|label_names)\s*\(", re.S)


class PromQLError(ValueError):
    """An expression this tokenizer cannot read (an unterminated string or brace, a stray char)."""


def _tokens(expr):
    """Yields (kind, text) for the expression: ident, number, string, punct, op."""
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
        elif c == "#":  # a comment runs to the end of the line
            while i < n and expr[i] != "\n":
                i += 1
        elif c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" and c != "`" else 1
            if j >= n:
                raise PromQLError(f"unterminated string at offset {i}: {expr!r}")
            yield "string", expr[i + 1:j]
            i = j + 1
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            m = _NUMBER.match(expr, i)
            yield "number", m.group(0)
            i = m.end()
        elif c.isalpha() or c in "_:":
            m = _IDENT.match(expr, i)
            yield "ident", m.group(0)
            i = m.end()
        elif c in "(){}[],@":
            yield "punct", c
            i += 1
        elif expr.startswith(("=~", "!~", "!=", "==", ">=", "<="), i):
            yield "op", expr[i:i + 2]
            i += 2
        elif c in "=<>+-*/%^":
            yield "op", c
            i += 1
        else:
            raise PromQLError(f"unexpected {c!r} at offset {i}: {expr!r}")


def strip_grafana_variables(expr):
    """Replaces Grafana's variables by inert text: `5m` inside [...], `x` elsewhere (they only
    ever stand for label values, ranges or steps, never for a metric name in our artefacts)."""
    return _GRAFANA_VAR.sub(lambda m: "5m" if m.group(0).startswith("$__") else "x", expr)


def metric_names(expr):
    """The set of metric names the PromQL expression `expr` reads."""
    tokens = list(_tokens(strip_grafana_variables(expr)))
    names = set()
    depth_braces = depth_brackets = 0
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else (None, None)
        if kind == "punct" and text in "[]":
            # A range or subquery ([5m], [1h:1m]): durations only. `:1m` lexes as an identifier.
            depth_brackets += 1 if text == "[" else -1
            if depth_brackets < 0:
                raise PromQLError(f"unbalanced ] in {expr!r}")
        elif depth_brackets > 0:
            pass
        elif kind == "punct" and text == "{":
            depth_braces += 1
        elif kind == "punct" and text == "}":
            depth_braces -= 1
            if depth_braces < 0:
                raise PromQLError(f"unbalanced }} in {expr!r}")
        elif kind == "ident" and depth_braces > 0:
            # Inside a selector: a label name. {__name__="x"} names a metric all the same.
            if text == "__name__" and nxt == ("op", "=") and i + 2 < len(tokens) \
                    and tokens[i + 2][0] == "string":
                names.add(tokens[i + 2][1])
        elif kind == "ident" and text in LABEL_LISTS:
            if nxt == ("punct", "("):  # skip the label list
                j = i + 2
                while j < len(tokens) and tokens[j] != ("punct", ")"):
                    j += 1
                if j >= len(tokens):
                    raise PromQLError(f"unclosed label list after {text} in {expr!r}")
                i = j
        elif kind == "ident" and nxt == ("punct", "("):
            pass  # a function or an aggregation
        elif kind == "ident" and text in AGGREGATIONS and nxt[0] == "ident" and nxt[1] in (
                "by", "without"):
            pass  # `sum by (x) (...)`
        elif kind == "ident" and text.lower() in KEYWORDS:
            pass
        elif kind == "ident":
            names.add(text)
        i += 1
    if depth_braces != 0 or depth_brackets != 0:
        raise PromQLError(f"unbalanced {{ or [ in {expr!r}")
    return names


def grafana_variable_query(query):
    """The PromQL inside a Grafana Prometheus variable query, or the query itself when it is one:
    `label_values(Q, label)` and `query_result(Q)` give Q; `label_values(label)`, `label_names()`
    and `metrics(regex)` read no metric and give None."""
    m = _GRAFANA_VAR_QUERY.match(query)
    if not m:
        return query
    func = m.group(1)
    body = query[m.end():query.rstrip().rfind(")")]
    if func in ("metrics", "label_names"):
        return None
    if func == "query_result":
        return body
    # label_values: the last top-level comma separates the query from the label.
    depth, split = 0, -1
    for k, ch in enumerate(body):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            split = k
    return body[:split] if split >= 0 else None


def dashboard_expressions(dashboard):
    """(where, expr) for every PromQL expression in a Grafana dashboard: panel targets (rows'
    nested panels included), annotations and query variables."""
    found = []

    def panel_walk(panels, path):
        for p in panels:
            title = p.get("title", f"id {p.get('id')}")
            for t in p.get("targets", []):
                if t.get("expr"):
                    found.append((f"{path}panel '{title}' target {t.get('refId')}", t["expr"]))
            panel_walk(p.get("panels", []), f"{path}row '{title}' / ")

    panel_walk(dashboard.get("panels", []), "")
    for a in dashboard.get("annotations", {}).get("list", []):
        for expr in (a.get("expr"), (a.get("target") or {}).get("expr")):
            if expr:
                found.append((f"annotation '{a.get('name')}'", expr))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        query = v.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        inner = grafana_variable_query(query or "")
        if inner:
            found.append((f"variable '{v.get('name')}'", inner))
    return found


def rules_expressions(rules):
    """(where, expr) for every rule of a Prometheus rules file (already parsed YAML)."""
    found = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            found.append((f"group '{group.get('name')}' rule '{name}'", rule["expr"]))
    return found


def exposition_names(text):
    """Every sample name in a Prometheus text exposition (histograms give _bucket, _sum, _count)."""
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(_IDENT.match(line).group(0))
    return names


def artefact_expressions(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".json"):
            return dashboard_expressions(json.load(f))
        import yaml  # python3-yaml; only needed for rules files
        return rules_expressions(yaml.safe_load(f))


def unknown_names(expressions, known):
    """[(where, name)] for the names the expressions read that are not in `known`."""
    out = []
    for where, expr in expressions:
        for name in sorted(metric_names(expr) - known):
            out.append((where, name))
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().split("\n\n")[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            known = exposition_names(f.read())
        problems = []
        for path in argv[2:]:
            problems += [(f"{path}: {where}", name)
                         for where, name in unknown_names(artefact_expressions(path), known)]
    except (OSError, ValueError) as e:
        print(f"promql_names: {e}", file=sys.stderr)
        return 2
    for where, name in problems:
        print(f"{where}: {name} is not exported")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
