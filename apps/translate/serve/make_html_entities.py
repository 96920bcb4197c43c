#!/usr/bin/env python3
"""Writes html_entities.cpp: HTML's named character references (the WHATWG
table, 2,231 names, as Python's html.entities.html5 holds it), those written
with their ';', sorted for a binary search. Run from anywhere:
    python3 apps/translate/serve/make_html_entities.py
"""
import html.entities
import pathlib

out = pathlib.Path(__file__).with_name("html_entities.cpp")
names = sorted(n[:-1] for n in html.entities.html5 if n.endswith(";"))


def cpp_string(text):
    return '"' + "".join(f"\\x{b:02x}" for b in text.encode("utf-8")) + '"'


rows = "\n".join(f'    {{"{n}", {cpp_string(html.entities.html5[n + ";"])}}},' for n in names)
out.write_text(f"""// Written by make_html_entities.py from the WHATWG table of named character
// references (Python's html.entities.html5); do not edit.
#include "apps/translate/serve/html_entities.h"

#include <algorithm>
#include <iterator>

namespace tg::translate {{

namespace {{
struct NamedReference {{
  std::string_view name;   // without '&' and ';'
  std::string_view value;  // UTF-8
}};
constexpr NamedReference kNamedReferences[] = {{
{rows}
}};
}}  // namespace

std::string_view html_named_reference(std::string_view name) {{
  const auto* end = std::end(kNamedReferences);
  const auto* found = std::lower_bound(std::begin(kNamedReferences), end, name,
                                       [](const NamedReference& r, std::string_view n) {{ return r.name < n; }});
  return found != end && found->name == name ? found->value : std::string_view();
}}

size_t html_named_reference_count() {{ return std::size(kNamedReferences); }}

}}  // namespace tg::translate
""")
print(f"{out}: {len(names)} names")
