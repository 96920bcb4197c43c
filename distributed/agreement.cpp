#include "distributed/agreement.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "distributed/broadcast.h"
#include "distributed/distributed.h"

namespace tg::distributed {

uint64_t fnv1a(std::string_view bytes, uint64_t hash) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void Fingerprint::add(std::string_view key, std::string_view value) {
  if (key.find(':') != std::string_view::npos || key.find('\n') != std::string_view::npos ||
      value.find('\n') != std::string_view::npos)
    fail("Fingerprint::add: key '{}' must not hold ':' or a newline, nor its value a newline", key);
  entries_.push_back(fmt::format("{}: {}", key, value));
}

void Fingerprint::add(std::string_view key, int64_t value) { add(key, std::to_string(value)); }

void Fingerprint::add(std::string_view key, double value) { add(key, fmt::format("{:.17g}", value)); }

void Fingerprint::add_hashed(std::string_view key, const std::vector<std::string>& items) {
  uint64_t hash = fnv1a("");
  for (const std::string& item : items) hash = fnv1a(std::string_view(item.data(), item.size() + 1), hash);  // with '\0'
  add(key, fmt::format("{} items, hash {:016x}", items.size(), hash));
}

void Fingerprint::add_shapes(std::string_view key, const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> items;
  for (const auto& [name, t] : named) items.push_back(fmt::format("{} {} {}", name, t.shape().str(), dtype_name(t.dtype())));
  add_hashed(key, items);
}

std::string Fingerprint::text() const {
  std::string s;
  for (const std::string& e : entries_) s += e + "\n";
  return s;
}

Fingerprint parse_fingerprint(const std::string& text) {
  Fingerprint f;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(": ");
    if (colon == std::string::npos) fail("parse_fingerprint: line '{}' is not 'key: value'", line);
    f.add(line.substr(0, colon), std::string_view(line).substr(colon + 2));
  }
  return f;
}

std::string first_difference(const Fingerprint& reference, const Fingerprint& mine, int rank) {
  const std::vector<std::string>& a = reference.entries();
  const std::vector<std::string>& b = mine.entries();
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string theirs = i < a.size() ? a[i] : "(nothing)";
    const std::string ours = i < b.size() ? b[i] : "(nothing)";
    if (theirs != ours) return fmt::format("rank {} has {}, rank 0 has {}", rank, ours, theirs);
  }
  return "";
}

void check_same_on_all_ranks(const Fingerprint& mine, std::string_view what) {
  if (world_size() == 1) return;
  const Fingerprint reference = parse_fingerprint(broadcast_string(mine.text(), 0));
  const std::string difference = first_difference(reference, mine, rank());
  // Which ranks differ: a 1 in its slot from each rank that does.
  std::vector<double> differs(static_cast<size_t>(world_size()), 0.0);
  if (!difference.empty()) differs[static_cast<size_t>(rank())] = 1.0;
  differs = all_reduce_sum(differs);
  int first = -1, count = 0;
  for (int r = 0; r < world_size(); ++r)
    if (differs[static_cast<size_t>(r)] != 0) {
      if (first < 0) first = r;
      ++count;
    }
  if (first < 0) return;
  const std::string message = broadcast_string(difference, first);
  throw CollectiveError(fmt::format("ranks disagree on {}: {}{}; every rank must run the same program with the "
                                    "same options and data",
                                    what, message, count > 1 ? fmt::format(" ({} ranks differ)", count) : ""));
}

}  // namespace tg::distributed
