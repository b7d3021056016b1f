#!/usr/bin/env python3
"""Every complete FormationPolicy shown in README.md and docs/*.md passes `dynoherd validate`.

A policy in the docs that no longer validates teaches users a mistake; this keeps them honest.
Usage: policy_snippets_test.py DYNOHERD_BINARY REPO_ROOT
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.S | re.M)


def snippets(root):
    files = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    for path in files:
        text = path.read_text()
        for match in FENCE.finditer(text):
            body = match.group(1)
            if "kind: FormationPolicy" in body and "apiVersion:" in body:
                line = text.count("\n", 0, match.start()) + 2
                yield f"{path.relative_to(root)}:{line}", body


def main():
    binary, root = sys.argv[1], pathlib.Path(sys.argv[2])
    env = dict(os.environ, HEROKU_APP_NAME="shop-production", APP="shop-production",
               PROMETHEUS_URL="http://127.0.0.1:9090",
               REDIS_URL="rediss://:not-a-real-password@127.0.0.1:6380")
    found = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for where, body in snippets(root):
            found += 1
            policy = pathlib.Path(tmp) / f"snippet{found}.yaml"
            policy.write_text(body)
            run = subprocess.run([binary, "validate", "-f", str(policy)], env=env,
                                 capture_output=True, text=True, timeout=30)
            if run.returncode != 0:
                failed += 1
                print(f"{where}: this policy does not validate:\n{run.stderr}", file=sys.stderr)
    if found == 0:
        print("no FormationPolicy snippet found in README.md or docs/: the extractor is broken",
              file=sys.stderr)
        return 1
    print(f"{found} policy snippets checked, {failed} invalid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
