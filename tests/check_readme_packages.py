#!/usr/bin/env python3
"""The README's package list is scripts/install-deps.sh's, word for word.

  check_readme_packages.py SOURCE_DIR

The README shows the packages in the code block under the line
`<!-- packages: scripts/install-deps.sh -->`; the script names them in its
`packages=(...)` line. Prints what one has and the other lacks; exit 1 if
they differ (in content or order)."""
import pathlib
import re
import sys


def main():
    source = pathlib.Path(sys.argv[1])
    readme = (source / "README.md").read_text()
    block = re.search(r"<!-- packages: scripts/install-deps.sh -->\s*```[a-z]*\n(.*?)```", readme, re.S)
    if not block:
        print("README.md: no code block under <!-- packages: scripts/install-deps.sh -->")
        return 1
    script = (source / "scripts/install-deps.sh").read_text()
    line = re.search(r"^packages=\((.*?)\)", script, re.M)
    if not line:
        print("scripts/install-deps.sh: no packages=(...) line")
        return 1
    shown, installed = block.group(1).split(), line.group(1).split()
    if shown == installed:
        print(f"README.md lists the {len(installed)} packages scripts/install-deps.sh installs, in its order")
        return 0
    for p in installed:
        if p not in shown:
            print(f"README.md lacks {p}, which scripts/install-deps.sh installs")
    for p in shown:
        if p not in installed:
            print(f"README.md lists {p}, which scripts/install-deps.sh does not install")
    if set(shown) == set(installed):
        print("README.md lists the same packages in another order than scripts/install-deps.sh")
    return 1


if __name__ == "__main__":
    sys.exit(main())
