#pragma once
// HTML's named character references (&uuml; &hellip; &CounterClockwiseContourIntegral;),
// the whole WHATWG table, from html_entities.cpp (written by make_html_entities.py).
#include <cstddef>
#include <string_view>

namespace tg::translate {

// The UTF-8 text `name` (without '&' and ';', case-sensitive) stands for, or "" when HTML has no such name.
std::string_view html_named_reference(std::string_view name);
size_t html_named_reference_count();
// The longest name's length (CounterClockwiseContourIntegral).
constexpr size_t kLongestReferenceName = 31;

}  // namespace tg::translate
