// scatter_add_rows on the GPU: table[index[i], :] += src[i, :] for every row i.
//
// Deterministic without atomics: the rows are sorted by the table row they
// add to (a stable radix sort, so rows with one index keep their order), and
// one block adds each run of equal indices, column by column, in that order.
// Every table element thus receives its additions in ascending i, as a serial
// loop would give them: the same bits on every run, and the sum the cpu
// backend computes. An embedding's backward (N = T·B rows of D columns into
// V rows) used to run one thread per column over all N rows: D threads in
// all, a millisecond a call at N = 3,840, D = 256 on an H100.
#include <cub/device/device_radix_sort.cuh>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_primitives.h"

namespace tg::cuda_kernels {

namespace {

constexpr size_t kAlign = 256;

size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Bits that hold every key 0 … max_key.
int key_bits(uint32_t max_key) {
  int bits = 1;
  while (bits < 32 && (max_key >> bits) != 0) ++bits;
  return bits;
}

size_t sort_bytes(int64_t rows, int bits) {
  size_t bytes = 0;
  cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const uint32_t*>(nullptr),
                                  static_cast<uint32_t*>(nullptr), static_cast<const uint32_t*>(nullptr),
                                  static_cast<uint32_t*>(nullptr), static_cast<int>(rows), 0, bits);
  return bytes;
}

// keys[i] = index[i], or table_rows (a run no block adds) where index[i] is not a row of the table;
// order[i] = i.
__global__ void scatter_keys_kernel(const int64_t* index, int64_t is, int64_t rows, int64_t table_rows,
                                    uint32_t* keys, uint32_t* order, DeviceError* error) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= rows) return;
  const int64_t k = index[i * is];
  const bool valid = k >= 0 && k < table_rows;
  if (!valid) report(error, DeviceErrorCode::scatter_index, k, i, table_rows);
  keys[i] = static_cast<uint32_t>(valid ? k : table_rows);
  order[i] = static_cast<uint32_t>(i);
}

// Block p adds the run of sorted keys that starts at p, if one starts there:
// table[k, j] += src[order[q], j] for q = p, p + 1, … while keys[q] == k.
template <typename T>
__global__ void scatter_runs_kernel(const T* src, int64_t s0, int64_t s1, const uint32_t* keys,
                                    const uint32_t* order, int64_t rows, T* table, int64_t t0, int64_t t1,
                                    int64_t cols, uint32_t skip_key) {
  const int64_t p = blockIdx.x;
  const uint32_t k = keys[p];
  if ((p > 0 && keys[p - 1] == k) || k == skip_key) return;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    T sum = table[k * t0 + j * t1];
    for (int64_t q = p; q < rows && keys[q] == k; ++q) sum += src[order[q] * s0 + j * s1];
    table[k * t0 + j * t1] = sum;
  }
}

}  // namespace

// Scratch: keys, order, sorted keys, sorted order (one aligned slice each), then the sort's own memory.
size_t scatter_add_rows_scratch_bytes(int64_t rows, int64_t table_rows) {
  if (rows == 0) return 0;
  return 4 * aligned(size_t(rows) * sizeof(uint32_t)) +
         sort_bytes(rows, key_bits(static_cast<uint32_t>(table_rows)));
}

void scatter_add_rows(const Context& ctx, const Array& src, const Array& index, const Array& table, void* scratch,
                      size_t scratch_bytes) {
  const int64_t rows = index.shape[0], cols = table.shape[1], table_rows = table.shape[0];
  if (rows * cols == 0) return;
  const size_t slice = aligned(size_t(rows) * sizeof(uint32_t));
  char* base = static_cast<char*>(scratch);
  uint32_t* keys = reinterpret_cast<uint32_t*>(base);
  uint32_t* order = reinterpret_cast<uint32_t*>(base + slice);
  uint32_t* sorted_keys = reinterpret_cast<uint32_t*>(base + 2 * slice);
  uint32_t* sorted_order = reinterpret_cast<uint32_t*>(base + 3 * slice);
  const int bits = key_bits(static_cast<uint32_t>(table_rows));
  size_t temp_bytes = scratch_bytes - 4 * slice;  // what scatter_add_rows_scratch_bytes asked the sort for

  scatter_keys_kernel<<<blocks_for(rows, kThreads), kThreads, 0, ctx.stream>>>(
      static_cast<const int64_t*>(index.data), index.strides[0], rows, table_rows, keys, order, ctx.error);
  cub::DeviceRadixSort::SortPairs(base + 4 * slice, temp_bytes, keys, sorted_keys, order, sorted_order,
                                  static_cast<int>(rows), 0, bits, ctx.stream);
  visit_float(table.dtype, [&]<typename T>() {
    const int threads = cols >= 128 ? 128 : 32;
    scatter_runs_kernel<T><<<static_cast<unsigned>(rows), threads, 0, ctx.stream>>>(
        static_cast<const T*>(src.data), src.strides[0], src.strides[1], sorted_keys, sorted_order, rows,
        static_cast<T*>(table.data), table.strides[0], table.strides[1], cols, static_cast<uint32_t>(table_rows));
  });
}

}  // namespace tg::cuda_kernels
