#!/usr/bin/env python3
"""Measured figures stated once: in their home page, cited from everywhere else.

  check_doc_figures.py SOURCE_DIR

The homes: docs/results.md (quality), docs/performance.md (speed),
bench/README.md (raw runs), each table with its date, machine and command.
Two rules, over README.md, docs/ (the tutorial included) and bench/README.md:

 1. A link to a home whose text holds a number, `[34.91 BLEU](results.md#...)`,
    cites it: the number must be in the linked section (the whole page
    without an anchor).
 2. Outside the homes, a quality or speed figure in prose (a BLEU score,
    tokens or sentences per second, GFLOP/s) must be in a table of its own
    page (a page's own measurement, stated with it) or name the home it
    comes from in its paragraph, and that home must hold the same number: a
    figure copied from a table and left behind when the table changed fails
    here. Code blocks and `code spans` (a program's printed output) are not
    prose; the tutorial's chapters show their own programs' output, with
    machine and date, and are homes of their own figures.

Prints one line per problem and "N figures and citations checked, N
problems"; exit 1 on any."""
import pathlib
import re
import sys

HOMES = ("docs/results.md", "docs/performance.md", "bench/README.md")
FIGURE = re.compile(
    r"BLEU\s+(?:of\s+|=\s*|is\s+|was\s+|score\s+)?(?<![\d.])(\d\d\.\d+)(?![\d.])"
    r"|(?<![\d.])(\d\d\.\d+)(?![\d.])\s+(?:[\w-]+\s+){0,2}BLEU"
    r"|(?<![\d.,])(\d[\d,]*(?:\.\d+)?)\s*(?:tok/s|sentences/s|sent/s|GFLOP/s)")


def slug(heading):
    """GitHub's anchor for a heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def section(text, anchor):
    """The text under the heading whose anchor is `anchor`, to the next heading of its level or above."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m and slug(m.group(2)) == anchor:
            level = len(m.group(1))
            out = []
            for rest in lines[i + 1:]:
                h = re.match(r"^(#+)\s", rest)
                if h and len(h.group(1)) <= level:
                    break
                out.append(rest)
            return "\n".join(out)
    return None


def numbers_in(text):
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def prose_paragraphs(text, keep_spans=False):
    """(first line number, paragraph) of the prose: code blocks blanked, and code spans unless keep_spans."""
    out, current, start, in_block = [], [], 0, False
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(r"^\s*```", line):
            in_block = not in_block
            line = ""
        if in_block:
            line = ""
        if not keep_spans:
            line = re.sub(r"`[^`]*`", "``", line)
        if not line.strip() or line.lstrip().startswith("|"):  # a table row stands alone
            if current:
                out.append((start, " ".join(current)))
            current = []
            if line.lstrip().startswith("|"):
                out.append((number, line))
            continue
        if not current:
            start = number
        current.append(line.strip())
    if current:
        out.append((start, " ".join(current)))
    return out


def main():
    source = pathlib.Path(sys.argv[1])
    pages = [source / "README.md", source / "bench/README.md"] + sorted((source / "docs").rglob("*.md"))
    homes = {h: (source / h).read_text() for h in HOMES}
    problems, checked = [], 0
    for page in pages:
        rel = str(page.relative_to(source))
        text = page.read_text()
        # 1. citations by link
        for number, paragraph in prose_paragraphs(text):
            for label, target in re.findall(r"\[([^\]]*\d[^\]]*)\]\(([^)]+)\)", paragraph):
                path, _, anchor = target.partition("#")
                resolved = str((page.parent / path).resolve().relative_to(source.resolve())) if path else rel
                if resolved not in HOMES:
                    continue
                checked += 1
                body = homes[resolved] if not anchor else section(homes[resolved], anchor)
                if body is None:
                    problems.append(f"{rel}:{number}: [{label}]({target}): {resolved} has no section #{anchor}")
                    continue
                for n in numbers_in(label) - numbers_in(body):
                    problems.append(f"{rel}:{number}: [{label}]({target}) cites {n}, which {resolved}"
                                    f"{'#' + anchor if anchor else ''} does not hold")
        if rel in HOMES or rel.startswith("docs/tutorial/"):
            continue
        own_tables = numbers_in("\n".join(line for line in text.split("\n") if line.lstrip().startswith("|")))
        # 2. figures in prose name their home, and the home holds them
        for (number, paragraph), (_, whole) in zip(prose_paragraphs(text), prose_paragraphs(text, keep_spans=True)):
            cited = [h for h in HOMES if h in whole or (h != "bench/README.md" and pathlib.PurePath(h).name in whole)]
            for m in FIGURE.finditer(paragraph):
                value = next(g for g in m.groups() if g).replace(",", "")
                checked += 1
                if value in own_tables:  # the page's own measured table holds it
                    continue
                if not cited:
                    problems.append(f"{rel}:{number}: the figure {m.group(0).strip()!r} names no page it comes from "
                                    f"({', '.join(HOMES)})")
                elif not any(value in numbers_in(homes[h]) for h in cited):
                    problems.append(f"{rel}:{number}: the figure {m.group(0).strip()!r} is not in {', '.join(cited)}, "
                                    f"which the paragraph cites")
    for p in problems:
        print(p)
    print(f"{checked} figures and citations checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
