#!/usr/bin/env python3
"""The op list (ops/op_list.cpp) against the public surface it declares.

  tests/check_op_list.py SOURCE_DIR           check; exit 1 naming what differs
  tests/check_op_list.py SOURCE_DIR --write   rewrite docs/ops.md from the list

Fails when a free function declared in ops/*.h, core/tensor/creation.h or
core/tensor/tensor.h is not on the list (or a listed function no longer exists),
when a method of Tensor is neither a listed op with the method form nor in
tensor_members_not_ops, when the list's method form claims a method Tensor
lacks, and when docs/ops.md is not what the list prints.
"""
import glob
import os
import re
import sys

FORMS = {"F": 1, "M": 2, "O": 4}
BODY = {"rec": "records its node", "comp": "composed", "kern": "fused kernel", "view": "view",
        "none": "no gradient"}
GROUPS = [("elementwise", "Elementwise"), ("reduction", "Reductions and scans"), ("shape", "Shapes, views and copies"),
          ("indexing", "Indexing"), ("product", "Products"), ("layer", "Layers"), ("loss", "Losses"),
          ("creation", "Creation"), ("helper", "Helpers (public, for writing ops)")]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def drop_bodies(text):
    """Text with every {...} block removed (class bodies, inline function bodies, initialisers)."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(";")
            continue
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def namespace_body(text):
    """The text inside `namespace tg {` ... (its outermost braces kept out)."""
    start = text.find("namespace tg {")
    if start < 0:
        return ""
    return text[start + len("namespace tg {"):text.rfind("}")]


DECL = re.compile(r"(?:^|[;\n])\s*(?:template\s*<[^>]*>\s*)?(?:inline\s+|static\s+|constexpr\s+)*"
                  r"(?!return\b)[A-Za-z_][\w:<>, ]*?[\s&*]([a-z_][a-z0-9_]*)\s*\(")


def free_functions(path):
    text = namespace_body(strip_comments(open(path).read()))
    return set(DECL.findall(drop_bodies(text)))


def tensor_methods(path):
    text = strip_comments(open(path).read())
    start = text.index("class Tensor {")
    depth, i = 0, start
    while True:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                break
        i += 1
    body = text[text.index("{", start) + 1:i]
    body = body[:body.find("private:")] if "private:" in body else body
    names = set()
    for line in drop_bodies(body).split(";"):
        line = " ".join(line.split())
        m = re.search(r"operator\s*\[\]", line)
        if m:
            names.add("operator[]")
            continue
        m = re.search(r"(?:^|[\s&*>])(~?[A-Za-z_]\w*)\s*\(", line)
        if m and not m.group(1).startswith("~") and m.group(1) != "Tensor":
            names.add(m.group(1))
    return names


def op_list(source):
    text = open(os.path.join(source, "ops/op_list.cpp")).read()
    entries = []
    entry = re.compile(r'\{"(\w+)",\s*"(\w+)",\s*"([^"]*)",\s*([FMO |]+),\s*(\w+),\s*((?:"[^"]*"\s*)+)\}', re.S)
    for m in entry.finditer(text):
        forms = sum(FORMS[f.strip()] for f in m.group(4).split("|"))
        differs = "".join(re.findall(r'"([^"]*)"', m.group(6)))
        entries.append({"name": m.group(1), "group": m.group(2), "pytorch": m.group(3), "forms": forms,
                        "body": m.group(5), "differs": differs})
    members_text = text[text.index("kTensorMembers"):]
    members_text = members_text[:members_text.index("});")]
    members = set(re.findall(r'"([^"]+)"', members_text))
    return entries, members


# Differences beyond the ops (modules, optimizers, schedules, loading), kept beside the list's own.
BEYOND_OPS = [
    "Random numbers come from tapegrad's generator (xoshiro256**): the same seed gives other numbers than "
    "PyTorch's, so initial weights, dropout masks and `randn` match PyTorch's in distribution only; fixtures "
    "load PyTorch's weights to compare.",
    "`nn::Dropout(p)` without a seed takes its own stream from `tg::manual_seed` (one per module, in construction "
    "order); PyTorch's dropout draws from the global generator at each call.",
    "`nn::BatchNorm1d/2d`: `momentum` is a number (no `None`); the modules run on the host backends only.",
    "`optim::OneCycleLR`: momentum is not cycled (the optimizers fix betas at construction); one `max_lr` for "
    "all groups, kept in proportion; the rate after the last step stops at 0 instead of going negative.",
    "`Module::load` of a PyTorch state_dict with tied weights accepts the tied names when their values are equal "
    "and refuses them otherwise; one of the names is enough.",
    "`tensor({...})` from a `std::vector<double>` is float64 (as `torch.from_numpy`); from literals it is the "
    "default float type (as `torch.tensor`).",
]


def render(entries):
    lines = ["# The op list", "",
             "Every public op of tapegrad, printed from its one declaration, `ops/op_list.cpp`",
             "(`tests/check_op_list.py --write`; the test suite fails when this page, the list and the",
             "headers disagree). Forms: `f` a function `tg::name(x, ...)`, `m` a method `x.name(...)`,",
             "`o` an operator. Gradient: *records its node* (forward and backward side by side in",
             "`ops/<name>.cpp`), *composed* of other recorded ops, *fused kernel* (a node over a kernel",
             "family in `kernels/`), *view* (a recorded view sharing memory), *no gradient*.",
             "`tests/test_conformance.cpp` checks each op that has a PyTorch counterpart against",
             "PyTorch's values and float64 gradients (`tests/fixtures/make_conformance_fixtures.py`),",
             "with its inputs contiguous, transposed, strided and expanded, and in float32.", ""]
    for key, title in GROUPS:
        rows = [e for e in entries if e["group"] == key]
        if not rows:
            continue
        lines += [f"## {title}", "", "| op | PyTorch | forms | gradient | differs from PyTorch |",
                  "| --- | --- | --- | --- | --- |"]
        for e in rows:
            forms = "".join(c for c, bit in (("f", 1), ("m", 2), ("o", 4)) if e["forms"] & bit)
            pytorch = f"`{e['pytorch']}`" if e["pytorch"] else "none"
            lines.append(f"| `{e['name']}` | {pytorch} | {forms} | {BODY[e['body']]} | {e['differs']} |")
        lines.append("")
    lines += ["## Beyond the ops", ""] + [f"- {d}" for d in BEYOND_OPS] + [""]
    return "\n".join(lines)


def main():
    source = sys.argv[1]
    entries, members = op_list(source)
    if len(entries) < 100:
        print(f"ops/op_list.cpp: read {len(entries)} entries; the pattern no longer matches the table")
        return 1
    doc = os.path.join(source, "docs/ops.md")
    if "--write" in sys.argv:
        open(doc, "w").write(render(entries))
        print(f"wrote {doc}")
        return 0
    problems = []
    listed = {}
    for e in entries:
        if e["name"] in listed:
            problems.append(f"{e['name']} is listed twice")
        listed[e["name"]] = e
    headers = [p for p in sorted(glob.glob(os.path.join(source, "ops/*.h")))
               if os.path.basename(p) not in ("ops.h", "op_list.h")]
    headers += [os.path.join(source, "core/tensor/creation.h"), os.path.join(source, "core/tensor/tensor.h")]
    declared = {}
    for h in headers:
        for name in free_functions(h):
            declared.setdefault(name, os.path.relpath(h, source))
    for name, where in sorted(declared.items()):
        if name not in listed:
            problems.append(f"{where}: tg::{name} is public and not in ops/op_list.cpp")
        elif not listed[name]["forms"] & 1:
            problems.append(f"{where}: tg::{name} is a function; its entry lacks F")
    for name, e in listed.items():
        if e["forms"] & 1 and name not in declared:
            problems.append(f"ops/op_list.cpp: {name} is listed as a function and no header declares it")
    methods = tensor_methods(os.path.join(source, "core/tensor/tensor.h"))
    for name in sorted(methods):
        if name == "operator[]":
            continue  # select's operator form
        if name in members:
            continue
        if name not in listed:
            problems.append(f"core/tensor/tensor.h: Tensor::{name} is neither an op of ops/op_list.cpp nor in tensor_members_not_ops")
        elif not listed[name]["forms"] & 2:
            problems.append(f"core/tensor/tensor.h: Tensor::{name} exists; its entry lacks M")
    for name, e in listed.items():
        if e["forms"] & 2 and name not in methods:
            problems.append(f"ops/op_list.cpp: {name} is listed with a method form that Tensor lacks")
    for name in sorted(members - methods):
        problems.append(f"ops/op_list.cpp: tensor_members_not_ops names {name}, which Tensor lacks")
    if not os.path.exists(doc) or open(doc).read() != render(entries):
        problems.append("docs/ops.md is not what ops/op_list.cpp prints: run tests/check_op_list.py . --write")
    for p in problems:
        print(p)
    print(f"{len(entries)} ops listed, {len(declared)} public functions, {len(methods)} Tensor members; "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
