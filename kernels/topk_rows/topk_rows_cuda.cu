// The CUDA backend's top-k of each row (topk_rows.h): one
// block per row and k passes; pass j finds, by a block-wide reduction, the
// entry ranking first among those ranking after pass j − 1's pick. The order
// needs no mask and no sort, and the result is the host's exactly; the work
// is O(k · n / threads) per row, meant for beam search's small k (2 × beam).
#include <cuda_runtime.h>

#include <cmath>

#include "backends/cuda/cuda_launch.h"
#include "kernels/topk_rows/topk_rows.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

constexpr int kTopkThreads = 256;

// kernels/topk_rows/topk_order.h's order, in device code: by value (largest or smallest
// first), NaN counting as the largest, the lower column first on ties.
template <typename T>
__device__ bool ranks_before(T va, int64_t a, T vb, int64_t b, bool largest) {
  const bool nan_a = isnan(va), nan_b = isnan(vb);
  if (nan_a || nan_b) return nan_a != nan_b ? nan_a == largest : a < b;
  if (va != vb) return largest ? va > vb : va < vb;
  return a < b;
}

template <typename T>
__global__ void topk_kernel(const T* x, int64_t row_stride, int64_t col_stride, int64_t n, int64_t k, bool largest,
                            int64_t* indices) {
  __shared__ T best_value[kTopkThreads];
  __shared__ int64_t best_column[kTopkThreads];  // -1: this thread found none
  __shared__ T last_value;
  __shared__ int64_t last_column;
  const T* row = x + blockIdx.x * row_stride;
  for (int64_t j = 0; j < k; ++j) {
    T value = T(0);
    int64_t column = -1;
    for (int64_t c = threadIdx.x; c < n; c += blockDim.x) {
      const T v = row[c * col_stride];
      if (j > 0 && !ranks_before(last_value, last_column, v, c, largest)) continue;  // picked already
      if (column < 0 || ranks_before(v, c, value, column, largest)) value = v, column = c;
    }
    best_value[threadIdx.x] = value;
    best_column[threadIdx.x] = column;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) {
        const int other = threadIdx.x + half;
        const int64_t c = best_column[other];
        if (c >= 0 && (best_column[threadIdx.x] < 0 ||
                       ranks_before(best_value[other], c, best_value[threadIdx.x], best_column[threadIdx.x], largest))) {
          best_value[threadIdx.x] = best_value[other];
          best_column[threadIdx.x] = c;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {  // k <= n: some entry is always left
      indices[blockIdx.x * k + j] = best_column[0];
      last_value = best_value[0];
      last_column = best_column[0];
    }
    __syncthreads();
  }
}

void topk_cuda(Backend& backend, const TopkRowsArgs& args) {
  const Context ctx = context_of(backend);
  const Array x = array(args.x), indices = array(args.indices);
  const bool largest = args.largest;
  const int64_t rows = x.shape[0], n = x.shape[1], k = indices.shape[1];
  if (rows == 0 || k == 0) return;
  check_blocks("topk_rows", rows);
  auto launch = [&]<typename T>() {
    topk_kernel<T><<<static_cast<unsigned>(rows), kTopkThreads, 0, ctx.stream>>>(
        static_cast<const T*>(x.data), x.strides[0], x.strides[1], n, k, largest,
        static_cast<int64_t*>(indices.data));
  };
  if (x.dtype == DType::f64) launch.template operator()<double>();
  else launch.template operator()<float>();
  check_launch("topk_rows");
}

const RegisterKernel cuda_topk(topk_rows_table(), "cuda", &topk_cuda);

}  // namespace

}  // namespace tg::kernels
