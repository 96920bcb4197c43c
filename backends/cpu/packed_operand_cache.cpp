#include "backends/cpu/packed_operand_cache.h"

#include <algorithm>

namespace tg::cpu {

namespace {
bool same_place(const PackedKey& a, const PackedKey& b) {
  return a.storage_id == b.storage_id && a.data == b.data && a.row_stride == b.row_stride &&
         a.col_stride == b.col_stride && a.rows == b.rows && a.cols == b.cols && a.format == b.format;
}
size_t bytes_of(const PackedOperandCache::Words& words) { return words.size() * sizeof(uint32_t); }
}  // namespace

std::shared_ptr<const PackedOperandCache::Words> PackedOperandCache::get(const PackedKey& key, size_t words,
                                                                         const std::function<void(uint32_t*)>& pack) {
  std::shared_ptr<Words> buffer;
  {
    const std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!same_place(it->key, key)) continue;
      if (it->key.version == key.version) {
        ++stats_.hits;
        it->last_use = ++clock_;
        return it->words;
      }
      // An older version of the same operand: never read again; its buffer takes the new packing
      // when no product still reads it.
      if (it->words.use_count() == 1) buffer = std::move(it->words);
      stats_.bytes -= buffer ? bytes_of(*buffer) : bytes_of(*it->words);
      entries_.erase(it);
      break;
    }
    ++stats_.misses;
  }
  if (!buffer) buffer = std::make_shared<Words>();
  buffer->resize(words);
  pack(buffer->data());

  const std::lock_guard lock(mutex_);
  entries_.push_back({key, buffer, ++clock_});
  stats_.bytes += bytes_of(*buffer);
  while (stats_.bytes > kCapacityBytes && entries_.size() > 1) {
    const auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                         [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
    stats_.bytes -= bytes_of(*oldest->words);
    entries_.erase(oldest);
  }
  return buffer;
}

PackedOperandCache::Stats PackedOperandCache::stats() const {
  const std::lock_guard lock(mutex_);
  Stats stats = stats_;
  stats.entries = entries_.size();
  return stats;
}

void PackedOperandCache::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
  stats_ = {};
}

PackedOperandCache& packed_operand_cache() {
  static PackedOperandCache cache;
  return cache;
}

}  // namespace tg::cpu
