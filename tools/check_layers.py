#!/usr/bin/env python3
"""The layering check (ARCHITECTURE.md, "Folders and layers"): fails when the tree disagrees with
the layer table of ARCHITECTURE.md, which is the one source of the order.

- The table lists every layer folder once, lower layers first, each with the layers its CMake
  library links. A layer may only depend on layers listed above it.
- Each layer folder defines exactly one library, dynoherd_library(<folder> ...), whose dynoherd::
  dependencies (PUBLIC and PRIVATE) are exactly the table's, and the root CMakeLists.txt adds the
  folders in the table's order.
- An #include "x/..." in a layer's own code names x itself or one of its dependencies; in its
  tests (*_test.cc and their helpers) any layer not above it, or tests/. Nothing under a layer
  includes tests/ except its tests.
- The simulator's headers (sim/) are included by sim/ itself, by bench/, and by the one file that
  plugs the simulator into the commands (SIM_GATEWAY), nowhere else.

Usage: check_layers.py [SOURCE_DIR]. Prints each violation; exits 1 if there is any, else 0.
"""
import pathlib
import re
import sys

SIM_GATEWAY = "cli/simulator.cc"
SIDE_FOLDERS = {"tests", "bench"}  # on the side of the layers: they may include anything
TEST_FILE = re.compile(r"(_test\.cc|_test_support\.h|_test_util\.h)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def layer_table(root):
    """[(folder, [dependencies])] from the table of ARCHITECTURE.md whose header is
    `| layer | what lives there | depends on |`, in its order."""
    text = (root / "ARCHITECTURE.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines)
                     if re.match(r"^\|\s*layer\s*\|.*\|\s*depends on\s*\|\s*$", line))
    except StopIteration:
        raise SystemExit("ARCHITECTURE.md: no table with the header | layer | ... | depends on |")
    layers = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        folder = re.fullmatch(r"`([a-z_]+)/`", cells[0])
        if not folder:
            raise SystemExit(f"ARCHITECTURE.md: {cells[0]!r} is not a `folder/` cell")
        deps = [] if cells[-1] in ("", "-") else [d.strip() for d in cells[-1].split(",")]
        layers.append((folder.group(1), deps))
    return layers


def library_deps(root, folder):
    """The dynoherd:: dependencies of the one dynoherd_library() call in folder/CMakeLists.txt,
    or an error message."""
    path = root / folder / "CMakeLists.txt"
    if not path.exists():
        return None, f"{folder}/CMakeLists.txt: missing"
    text = re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8"))
    calls = re.findall(r"dynoherd_library\(\s*([a-z_]+)(.*?)\)", text, re.S)
    if len(calls) != 1:
        return None, f"{folder}/CMakeLists.txt: {len(calls)} dynoherd_library() calls, not one"
    name, body = calls[0]
    if name != folder:
        return None, f"{folder}/CMakeLists.txt: the library is {name}, not {folder}"
    deps = re.findall(r"dynoherd::([a-z_]+)", body)
    return set(deps), None


def subdirectory_order(root):
    text = (root / "CMakeLists.txt").read_text(encoding="utf-8")
    return re.findall(r"^add_subdirectory\(([a-z_]+)\)", text, re.M)


def source_files(root, folder):
    for path in sorted((root / folder).rglob("*")):
        if path.suffix in (".h", ".cc") and path.is_file():
            yield path


def check(root):
    problems = []
    layers = layer_table(root)
    order = [folder for folder, _ in layers]
    rank = {folder: i for i, folder in enumerate(order)}
    if len(rank) != len(order):
        problems.append("ARCHITECTURE.md: a layer is listed twice")

    for folder, deps in layers:
        for dep in deps:
            if dep not in rank:
                problems.append(f"ARCHITECTURE.md: {folder} depends on {dep}, which is no layer")
            elif rank[dep] >= rank[folder]:
                problems.append(f"ARCHITECTURE.md: {folder} depends on {dep}, which is not below it")
        actual, error = library_deps(root, folder)
        if error:
            problems.append(error)
        elif actual != set(deps):
            problems.append(
                f"{folder}/CMakeLists.txt: links {', '.join(sorted(actual)) or 'no layer'}; "
                f"ARCHITECTURE.md says {', '.join(sorted(deps)) or 'none'}")

    added = [d for d in subdirectory_order(root) if d in rank]
    if added != order:
        problems.append("CMakeLists.txt: add_subdirectory order " + " ".join(added) +
                        " is not the layer order " + " ".join(order))

    allowed = {folder: set(deps) | {folder} for folder, deps in layers}
    for folder in order:
        for path in source_files(root, folder):
            relative = path.relative_to(root).as_posix()
            is_test = bool(TEST_FILE.search(path.name))
            for target in INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace")):
                if target == "tests":
                    if not is_test:
                        problems.append(f"{relative}: includes tests/ outside a test")
                    continue
                if target not in rank:
                    continue
                if is_test:
                    if rank[target] > rank[folder]:
                        problems.append(f"{relative}: a test of {folder} includes {target}/, "
                                        "which is above it")
                elif target not in allowed[folder]:
                    above = rank[target] > rank[folder]
                    problems.append(
                        f"{relative}: includes {target}/, "
                        + ("which is above " + folder if above
                           else "which is not among the dependencies of " + folder))

    for path in sorted(root.rglob("*")):
        if path.suffix not in (".h", ".cc") or not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        top = relative.split("/")[0]
        if top in ("sim", "bench") or top.startswith(("build", ".")) or relative == SIM_GATEWAY:
            continue
        if re.search(r'^\s*#\s*include\s+"sim/', path.read_text(encoding="utf-8", errors="replace"),
                     re.M):
            problems.append(f"{relative}: includes a simulator header; only {SIM_GATEWAY} may "
                            "(the simulator plugs in through the application layer's seams)")
    return problems


def main(argv):
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).parent.parent)
    problems = check(root.resolve())
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problem(s); the layers are ARCHITECTURE.md's table")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
