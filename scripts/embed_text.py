#!/usr/bin/env python3
"""Embeds a text file (a web page) in C++ at build time, so that it stays a
file of its own that can be read, linted and diffed:

    embed_text.py INPUT OUTPUT.cpp NAMESPACE FUNCTION

writes OUTPUT.cpp defining `const std::string& NAMESPACE::FUNCTION()`, which
returns INPUT's bytes (one string literal a line, escaped).
"""
import sys

source, output, namespace, function = sys.argv[1:5]
data = open(source, "rb").read()


def literal(chunk: bytes) -> str:
    out = []
    for byte in chunk:
        c = chr(byte)
        if c == "\\" or c == '"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif 0x20 <= byte < 0x7F and c != "?":  # '?' escaped: no trigraphs
            out.append(c)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


lines = data.splitlines(keepends=True) or [b""]
body = "\n      ".join(literal(line) for line in lines)
with open(output, "w") as f:
    f.write(f"// Written by scripts/embed_text.py from {source.split('/')[-1]}: edit that file, not this one.\n")
    f.write("#include <string>\n\n")
    f.write(f"namespace {namespace} {{\n\n")
    f.write(f"const std::string& {function}() {{\n")
    f.write(f"  static const std::string text(\n      {body},\n      {len(data)});\n")
    f.write("  return text;\n}\n\n")
    f.write(f"}}  // namespace {namespace}\n")
