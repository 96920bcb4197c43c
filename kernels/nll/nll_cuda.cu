// The CUDA backend's NLL kernels (nll.h). Forward: a warp per row, summing
// the row for the smoothing term; backward: one thread per (row, class) when
// smoothing spreads the gradient over the row, else one per row. A bad target
// is reported from the device (turned into an error when the host next waits).
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_launch.h"
#include "kernels/nll/nll.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

template <int G, typename T>
__global__ void nll_kernel(const T* logp, const int64_t* target, int64_t target_stride, int64_t ignore_index,
                           double smoothing, T* loss, int64_t loss_stride, int64_t rows, int64_t cols,
                           DeviceError* error) {
  const int lane = threadIdx.x % G;
  const int64_t per_block = blockDim.x / G;
  for (int64_t r = blockIdx.x * per_block + threadIdx.x / G; r < rows; r += int64_t(gridDim.x) * per_block) {
    const int64_t t = target[r * target_stride];
    const bool bad = t != ignore_index && (t < 0 || t >= cols);
    double sum = 0;
    if (smoothing != 0 && t != ignore_index && !bad)
      for (int64_t c = lane; c < cols; c += G) sum += double(logp[r * cols + c]);
    sum = group_sum<G>(sum);
    if (lane != 0) continue;
    if (bad) report(error, DeviceErrorCode::nll_target, t, r, cols);
    double l = 0;
    if (t != ignore_index && !bad) l = -(1 - smoothing) * double(logp[r * cols + t]) - smoothing / double(cols) * sum;
    loss[r * loss_stride] = T(l);
  }
}

// dlogp[i, c] += dloss_i * -((1-ε)[c = t_i] + ε/C) over a (rows, width)
// grid: width C when smoothing spreads over the row, else 1 (the target only).
template <typename T> struct NllBackwardBody {
  T* dlogp;
  const T* dloss;
  const int64_t* target;
  int64_t width, cols, target_stride, dloss_stride, ignore_index;
  double smoothing;
  DeviceError* error;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t i = o[0] / width, c = o[0] - i * width;
    const int64_t t = target[i * target_stride];
    if (t == ignore_index) return;
    if (t < 0 || t >= cols) {
      if (c == 0) report(error, DeviceErrorCode::nll_backward_target, t, i, cols);
      return;
    }
    const double g = dloss[i * dloss_stride];
    if (smoothing != 0) {
      double d = -g * smoothing / double(cols);
      if (c == t) d += -g * (1 - smoothing);
      dlogp[i * cols + c] += T(d);
    } else {
      dlogp[i * cols + t] += T(-g);
    }
  }
};

void nll_cuda(Backend& backend, const NllArgs& a) {
  const Context ctx = context_of(backend);
  const Array logp = array(a.logp), target = array(a.target), loss = array(a.loss);
  const int64_t ignore_index = a.ignore_index;
  const double smoothing = a.smoothing;
  const int64_t rows = logp.shape[0], cols = logp.shape[1];
  if (rows == 0) return;
  visit_float(logp.dtype, [&]<typename T>() {
    nll_kernel<32, T><<<blocks_for(rows, kThreads / 32), kThreads, 0, ctx.stream>>>(
        static_cast<const T*>(logp.data), static_cast<const int64_t*>(target.data), target.strides[0],
        ignore_index, smoothing, static_cast<T*>(loss.data), loss.strides[0], rows, cols, ctx.error);
  });
  check_launch("nll");
}

void nll_backward_cuda(Backend& backend, const NllBackwardArgs& a) {
  const Context ctx = context_of(backend);
  const Array target = array(a.target), dloss = array(a.dloss), dlogp = array(a.dlogp);
  const int64_t ignore_index = a.ignore_index;
  const double smoothing = a.smoothing;
  const int64_t rows = dlogp.shape[0], cols = dlogp.shape[1];
  if (cols == 0) return;
  const int64_t width = smoothing != 0 ? cols : 1;
  const Array g = grid(rows, width);
  visit_float(dlogp.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    NllBackwardBody<T>{static_cast<T*>(dlogp.data), static_cast<const T*>(dloss.data),
                                       static_cast<const int64_t*>(target.data), width, cols, target.strides[0],
                                       dloss.strides[0], ignore_index, smoothing, ctx.error});
  });
  check_launch("nll_backward");
}

const RegisterKernel cuda_nll(nll_table(), "cuda", &nll_cuda);
const RegisterKernel cuda_nll_backward(nll_backward_table(), "cuda", &nll_backward_cuda);

}  // namespace

}  // namespace tg::kernels
