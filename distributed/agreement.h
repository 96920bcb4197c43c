#pragma once
// What must be equal on every rank before training starts: configuration,
// vocabularies, parameter names and shapes. Each rank writes a Fingerprint,
// a list of "key: value" entries (long values, such as a vocabulary, as their
// size and a 64-bit hash); check_same_on_all_ranks compares every rank's with
// rank 0's and on a difference throws CollectiveError on every rank, naming
// the first rank and entry that differ:
//   ranks disagree on the training setup: rank 1 has batch_size: 32, rank 0 has batch_size: 64
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::distributed {

class Fingerprint {
 public:
  void add(std::string_view key, std::string_view value);
  void add(std::string_view key, int64_t value);
  void add(std::string_view key, double value);  // exact: printed with 17 significant digits
  // A long value as "<count> items, hash <hex>".
  void add_hashed(std::string_view key, const std::vector<std::string>& items);
  // Names, shapes and dtypes of named tensors, hashed (not their values).
  void add_shapes(std::string_view key, const std::vector<std::pair<std::string, Tensor>>& named);
  const std::vector<std::string>& entries() const { return entries_; }
  std::string text() const;  // entries, one per line

 private:
  std::vector<std::string> entries_;
};

// 64-bit FNV-1a of `bytes` (the hash the fingerprint prints).
uint64_t fnv1a(std::string_view bytes, uint64_t hash = 0xcbf29ce484222325ULL);

// Compares `mine` with rank 0's on every rank; `what` names the setup in the
// message. Returns when all agree; a world of one always agrees.
void check_same_on_all_ranks(const Fingerprint& mine, std::string_view what = "the training setup");

// The message for the first entry where `mine` (on rank `rank`) differs from
// rank 0's `reference`, or "" when they are equal. Used by the check; exposed
// for tests.
std::string first_difference(const Fingerprint& reference, const Fingerprint& mine, int rank);

// Parses Fingerprint::text() back (rank 0's arrives as text).
Fingerprint parse_fingerprint(const std::string& text);

}  // namespace tg::distributed
