#!/usr/bin/env python3
"""Every relative link in the project's Markdown resolves: the file exists and, for a `#anchor`
into Markdown, a heading of the target gives that anchor the way GitHub makes anchors.

A renamed heading or moved file otherwise leaves readers at a dead link, silently.
Usage: markdown_links_test.py REPO_ROOT
"""
import pathlib
import re
import sys

LINK = re.compile(r"\]\(([^)\s]+)\)")


def github_anchors(markdown):
    """The anchors GitHub gives a Markdown file's headings (fenced code skipped)."""
    anchors, seen, fenced = set(), {}, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def markdown_files(root):
    files = [root / "README.md", root / "ARCHITECTURE.md"]
    files += sorted((root / "docs").glob("*.md"))
    files += sorted((root / "examples").rglob("*.md"))
    files += sorted((root / "tests").rglob("README*.md"))
    return [f for f in files if f.is_file()]


def broken_links(path):
    """(link, why) for each link of `path` that does not resolve."""
    text = path.read_text()
    fenced_free = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    broken = []
    for target in LINK.findall(fenced_free):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append((target, f"{resolved} does not exist"))
        elif anchor and resolved.suffix == ".md" and anchor not in github_anchors(resolved.read_text()):
            broken.append((target, f"no heading of {resolved.name} makes the anchor #{anchor}"))
    return broken


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    files = markdown_files(root)
    failures = 0
    for path in files:
        for target, why in broken_links(path):
            failures += 1
            print(f"{path.relative_to(root)}: ({target}): {why}", file=sys.stderr)
    print(f"{len(files)} Markdown files checked, {failures} broken links")
    return 1 if failures or not files else 0


if __name__ == "__main__":
    sys.exit(main())
