#include "backends/cpu/packed_operand_cache.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace tg::cpu {

namespace {
bool same_place(const PackedKey& a, const PackedKey& b) {
  return a.storage_id == b.storage_id && a.data == b.data && a.row_stride == b.row_stride &&
         a.col_stride == b.col_stride && a.rows == b.rows && a.cols == b.cols && a.format == b.format &&
         a.matrices == b.matrices && a.matrix_stride == b.matrix_stride;
}
size_t bytes_of(const PackedOperandCache::Words& words) { return words.size() * sizeof(uint32_t); }
}  // namespace

std::shared_ptr<const PackedOperandCache::Words> PackedOperandCache::get(const PackedKey& key, size_t words,
                                                                         const std::function<void(uint32_t*)>& pack) {
  std::unique_lock lock(mutex_);
  std::shared_ptr<Words> buffer;
  for (;;) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return same_place(e.key, key); });
    if (it == entries_.end()) break;
    if (it->key.version == key.version) {
      if (it->packing) {  // another thread packs this very operand: wait for it, then look again
        packed_.wait(lock);
        continue;
      }
      ++stats_.hits;
      it->last_use = ++clock_;
      return it->words;
    }
    // An older (or, racing a writer, newer) version of the same operand: replaced. Its buffer takes the new
    // packing when nothing still reads it; one being packed is left to its packer, who keeps it uncached.
    if (!it->packing && it->words.use_count() == 1) buffer = std::move(it->words);
    stats_.bytes -= bytes_of(buffer ? *buffer : *it->words);
    entries_.erase(it);
    break;
  }
  ++stats_.misses;
  if (!buffer) buffer = std::make_shared<Words>();
  buffer->resize(words);
  entries_.push_back({key, buffer, ++clock_, true});
  stats_.bytes += bytes_of(*buffer);
  lock.unlock();

  auto finish = [&](bool packed) {
    const std::lock_guard relock(mutex_);
    auto mine = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.words == buffer; });
    if (mine != entries_.end()) {
      if (packed) {
        mine->packing = false;
      } else {
        stats_.bytes -= bytes_of(*buffer);
        entries_.erase(mine);
      }
    }
    evict_past_capacity();
    packed_.notify_all();
  };
  try {
    pack(buffer->data());
  } catch (...) {
    finish(false);
    throw;
  }
  finish(true);
  return buffer;
}

void PackedOperandCache::evict_past_capacity() {
  while (stats_.bytes > kCapacityBytes) {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (!it->packing && (oldest == entries_.end() || it->last_use < oldest->last_use)) oldest = it;
    if (oldest == entries_.end() || entries_.size() == 1) return;  // only entries being packed, or the one just made
    stats_.bytes -= bytes_of(*oldest->words);
    entries_.erase(oldest);
  }
}

std::vector<PackedOperandCache::Taken> PackedOperandCache::take_stale(
    uint64_t storage_id, uint64_t version, const std::function<bool(const PackedKey&)>& remakable) {
  const std::lock_guard lock(mutex_);
  std::vector<Taken> taken;
  std::erase_if(entries_, [&](Entry& e) {
    if (e.key.storage_id != storage_id || e.key.version >= version || e.packing || e.words.use_count() != 1 ||
        !remakable(e.key))
      return false;
    stats_.bytes -= bytes_of(*e.words);
    taken.push_back({e.key, std::move(e.words)});
    return true;
  });
  return taken;
}

void PackedOperandCache::put(const PackedKey& key, std::shared_ptr<Words> words) {
  const std::lock_guard lock(mutex_);
  const auto same = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return same_place(e.key, key); });
  if (same != entries_.end()) {
    if (same->packing) return;  // a thread packs this place itself: its packing stands
    stats_.bytes -= bytes_of(*same->words);
    entries_.erase(same);
  }
  stats_.bytes += bytes_of(*words);
  ++stats_.remade;
  entries_.push_back({key, std::move(words), ++clock_, false});
  evict_past_capacity();
}

PackedOperandCache::Stats PackedOperandCache::stats() const {
  const std::lock_guard lock(mutex_);
  Stats stats = stats_;
  stats.entries = entries_.size();
  return stats;
}

void PackedOperandCache::clear() {
  const std::lock_guard lock(mutex_);
  // Entries being packed stay: their packers find and finish them.
  std::erase_if(entries_, [](const Entry& e) { return !e.packing; });
  stats_ = {};
  for (const Entry& e : entries_) stats_.bytes += bytes_of(*e.words);
}

PackedOperandCache& packed_operand_cache() {
  static PackedOperandCache cache;
  return cache;
}

bool keep_packed_parameters() {
  static const bool keep = [] {
    const char* value = std::getenv("TG_KEEP_PACKED");
    return value == nullptr || std::string_view(value) != "0";
  }();
  return keep;
}

}  // namespace tg::cpu
