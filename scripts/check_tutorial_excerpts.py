#!/usr/bin/env python3
"""Checks that the tutorial's code blocks are current.

A chapter (docs/tutorial/*.md) marks a block taken from a program with
    <!-- excerpt: examples/tutorial/01_tape.cpp expression -->
followed by a ```cpp block. The program marks the same region with
    // [tutorial:expression]   ...   // [/tutorial:expression]
The block must equal the region's lines (with their common indentation
removed). Usage: check_tutorial_excerpts.py SOURCE_ROOT [--update]; exit 1
names every stale or missing excerpt. --update rewrites the blocks from the
programs (for the author after changing a program).
"""
import pathlib
import re
import sys
import textwrap

MARK = re.compile(r"^<!-- excerpt: (\S+) (\S+) -->$")


def region(source: pathlib.Path, name: str) -> str | None:
    lines = source.read_text().splitlines()
    begin, end = f"// [tutorial:{name}]", f"// [/tutorial:{name}]"
    starts = [i for i, line in enumerate(lines) if line.strip() == begin]
    ends = [i for i, line in enumerate(lines) if line.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return None
    return textwrap.dedent("\n".join(lines[starts[0] + 1 : ends[0]])).strip("\n")


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    update = "--update" in sys.argv[2:]
    problems, checked = [], 0
    chapters = sorted((root / "docs" / "tutorial").glob("*.md"))
    for chapter in chapters:
        lines = chapter.read_text().splitlines()
        changed = False
        for i, line in enumerate(lines):
            match = MARK.match(line.strip())
            if not match:
                continue
            where = f"{chapter.relative_to(root)}:{i + 1}"
            source, name = root / match.group(1), match.group(2)
            if not source.is_file():
                problems.append(f"{where}: {match.group(1)} does not exist")
                continue
            expected = region(source, name)
            if expected is None:
                problems.append(f"{where}: {match.group(1)} has no single region [tutorial:{name}]")
                continue
            if i + 1 >= len(lines) or lines[i + 1].strip() != "```cpp":
                problems.append(f"{where}: the excerpt mark must be followed by a ```cpp block")
                continue
            try:
                close = lines.index("```", i + 2)
            except ValueError:
                problems.append(f"{where}: the ```cpp block is not closed")
                continue
            block = "\n".join(lines[i + 2 : close]).strip("\n")
            checked += 1
            if block != expected and update:
                lines[i + 2 : close] = expected.splitlines()
                changed = True
            elif block != expected:
                problems.append(f"{where}: the block differs from {match.group(1)} [tutorial:{name}]; copy the region again")
        if changed:
            chapter.write_text("\n".join(lines) + "\n")
    for problem in problems:
        print(problem)
    print(f"{checked} excerpts checked in {len(chapters)} chapters, {len(problems)} problems")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
