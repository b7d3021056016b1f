#!/usr/bin/env python3
"""An estimate of the size of the Dockerfile's runtime image, without Docker (docs/install.md).

debian:bookworm-slim is debootstrap's minbase (the packages of priority required, and apt) whose
dpkg leaves out documentation, man pages and translations. The runtime image adds what apt
installs for the package (its Depends, recursively, without Recommends) and the package's own
files. Each part is given twice, from this machine's installed Debian packages: their
Installed-Size (dpkg-query), and the size of their files that the slim image keeps (dpkg -L,
without the slim image's excluded paths), which is the nearer one. The machine must be Debian 12
with the package's dependencies installed (a build machine is).

    python3 tools/image-size-estimate.py [build/dynoherd_<version>_<arch>.deb]
"""
import glob
import os
import re
import subprocess
import sys

# debian:*-slim's /etc/dpkg/dpkg.cfg.d/docker: paths its dpkg does not install.
SLIM_EXCLUDED = re.compile(r"^/usr/share/(doc/(?!.*/copyright$)|groff/|info/|linda/|lintian/overrides/|"
                           r"locale/|man/)")


def installed_packages():
    """{name: (priority, Installed-Size KiB, [[alternative, ...] for each dependency])}, and
    {virtual package: an installed package providing it}."""
    fmt = "${db:Status-Abbrev}\t${Package}\t${Priority}\t${Installed-Size}\t${Pre-Depends}, ${Depends}\t${Provides}\n"
    out = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True).stdout
    packages, providers = {}, {}
    for line in out.splitlines():
        status, name, priority, size, depends, provides = line.split("\t")
        if status.startswith("ii"):
            packages[name] = (priority, int(size or 0), parse_depends(depends))
            for virtual in parse_names(provides):
                providers.setdefault(virtual, name)
    return packages, providers


def parse_names(field):
    return [re.sub(r"[ (:].*", "", p.strip()) for p in field.split(",") if p.strip()]


def parse_depends(field):
    return [parse_names(dep.replace("|", ",")) for dep in field.split(",") if dep.strip()]


def closure(names, packages, providers):
    """The installed packages `names` need, recursively: for each dependency the first of its
    alternatives installed here (as apt chose when it installed them)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        name = name if name in packages else providers.get(name)
        if name is None or name in seen:
            continue
        seen.add(name)
        for alternatives in packages[name][2]:
            chosen = next((a for a in alternatives if a in packages or a in providers), None)
            if chosen:
                todo.append(chosen)
    return seen


def kept_bytes(names):
    """Bytes of the regular files of installed packages that the slim image would keep."""
    out = subprocess.run(["dpkg", "-L", *sorted(names)], capture_output=True, text=True).stdout
    total = 0
    for path in set(out.splitlines()):
        if path.startswith("/") and not SLIM_EXCLUDED.match(path) and os.path.isfile(path) \
                and not os.path.islink(path):
            total += os.lstat(path).st_size
    return total


def deb_bytes(deb, keep_all):
    total = 0
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if fields[0].startswith("-") and (keep_all or not SLIM_EXCLUDED.match(fields[5][1:])):
            total += int(fields[2])
    return total


def main():
    debs = sys.argv[1:] or sorted(glob.glob("build/dynoherd_*.deb"))
    if not debs:
        sys.exit("no package: run `make package`, or name the .deb")
    deb = debs[-1]
    packages, providers = installed_packages()
    required = [n for n, (priority, _, _) in packages.items() if priority == "required"]
    base = closure(required + ["apt"], packages, providers)
    depends = parse_depends(subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                                           text=True, check=True).stdout)
    missing = [alts[0] for alts in depends if alts[0] not in packages]
    if missing:
        sys.exit(f"not installed here, so of unknown size: {' '.join(missing)}")
    added = sorted(closure([alts[0] for alts in depends], packages, providers) - base)

    rows = [(f"debian:bookworm-slim ({len(base)} packages)", sum(packages[n][1] for n in base) * 1024,
             kept_bytes(base)),
            (f"added by apt ({len(added)} packages)", sum(packages[n][1] for n in added) * 1024,
             kept_bytes(added)),
            (os.path.basename(deb), deb_bytes(deb, True), deb_bytes(deb, False))]
    rows.append(("estimated image", sum(r[1] for r in rows), sum(r[2] for r in rows)))
    print(f"{'':44} {'Installed-Size':>14} {'files kept':>12}")
    for label, installed, kept in rows:
        print(f"{label:44} {installed / 2**20:10.1f} MiB {kept / 2**20:8.1f} MiB")
    print("added:", " ".join(added))


if __name__ == "__main__":
    main()
