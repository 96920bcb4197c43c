#include "backends/cpu/kept_packing_refresh.h"

#include <algorithm>

#include "backends/cpu/cpu_gemm.h"
#include "backends/cpu/thread_pool.h"

namespace tg::cpu {

namespace {

// Where B[0, 0] lies in the parameter [data, data + numel), or -1 where B (key.rows, key.cols) is not wholly
// inside it.
int64_t origin_in(const PackedKey& key, const float* data, int64_t numel) {
  const auto* b = static_cast<const float*>(key.data);
  if (b < data || b >= data + numel || key.rows <= 0 || key.cols <= 0) return -1;
  const int64_t origin = b - data;
  const int64_t last = origin + (key.rows - 1) * key.row_stride + (key.cols - 1) * key.col_stride;
  return last < numel ? origin : -1;
}

// Whether B's rows (k) or its columns (n) are runs of memory, as a weight W (n, k) read as Wᵀ or as itself.
bool columns_are_runs(const PackedKey& key) { return key.row_stride == 1 && key.col_stride >= key.rows; }
bool rows_are_runs(const PackedKey& key) { return key.col_stride == 1 && key.row_stride >= key.cols; }

}  // namespace

KeptPackingRefresh::KeptPackingRefresh(const float* data, int64_t numel, uint64_t storage_id, uint64_t version)
    : numel_(numel), version_(version) {
  if (storage_id == 0) return;
  const int format = bf16_packing_format();
  auto remakable = [&](const PackedKey& key) {
    return key.format == format && key.matrices == 1 && origin_in(key, data, numel) >= 0 &&
           (columns_are_runs(key) || rows_are_runs(key));
  };
  for (PackedOperandCache::Taken& taken : packed_operand_cache().take_stale(storage_id, version, remakable)) {
    const PackedKey key = taken.key;
    const bool by_columns = columns_are_runs(key);
    const int64_t count = by_columns ? (key.cols + kPanelColumns - 1) / kPanelColumns : (key.rows + 1) / 2;
    parts_.push_back({std::move(taken), by_columns, origin_in(key, data, numel), 0, count});
  }
}

// By columns: column j reads [origin + j · col_stride, + rows); a panel is ready when its 32 columns are (the
// last, narrower one when all are). By rows: row kk reads [origin + kk · row_stride, + cols); a pair of rows
// is ready when both are (the last pair of an odd k is one row).
int64_t KeptPackingRefresh::ready(const Part& part, int64_t written) const {
  const PackedKey& key = part.taken.key;
  const int64_t run = part.by_columns ? key.rows : key.cols, stride = part.by_columns ? key.col_stride : key.row_stride;
  const int64_t runs = part.by_columns ? key.cols : key.rows;
  const int64_t complete = written < part.origin + run ? 0 : std::min(runs, (written - part.origin - run) / stride + 1);
  if (complete == runs) return part.count;
  return part.by_columns ? complete / kPanelColumns : complete / 2;
}

void KeptPackingRefresh::written(int64_t written) {
  for (Part& part : parts_) {
    const int64_t first = part.done, last = ready(part, written);
    if (last <= first) continue;
    const PackedKey& key = part.taken.key;
    uint32_t* words = part.taken.words->data();
    if (part.by_columns) {
      parallel_for(last - first, pool_threads(), [&](int64_t begin, int64_t end) {
        repack_bf16_panels(key, words, first + begin, first + end);
      });
    } else {  // each thread its own panels of the pairs of rows
      const int64_t panels = (key.cols + kPanelColumns - 1) / kPanelColumns;
      parallel_for(panels, pool_threads(), [&](int64_t begin, int64_t end) {
        repack_bf16_pair_rows(key, words, first, last, begin, end);
      });
    }
    part.done = last;
  }
}

void KeptPackingRefresh::finish() {
  written(numel_);
  for (Part& part : parts_) {
    PackedKey key = part.taken.key;
    key.version = version_;
    packed_operand_cache().put(key, std::move(part.taken.words));
  }
  parts_.clear();
}

}  // namespace tg::cpu
