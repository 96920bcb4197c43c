#pragma once
// Moses' nonbreaking-prefix lists (scripts/share/nonbreaking_prefixes/
// nonbreaking_prefix.{de,en}): words that, followed by a period, do not end a
// sentence ("Dr.", "z.B.", German ordinals "28."). Stored as data here.
#include <string>
#include <string_view>
#include <unordered_map>

namespace tg::text {

enum class PrefixKind { always = 1, numeric_only = 2 };  // numeric_only: only before a digit

// The prefix table for "de" or "en"; throws for other languages.
const std::unordered_map<std::u32string, PrefixKind>& nonbreaking_prefixes(std::string_view lang);

}  // namespace tg::text
