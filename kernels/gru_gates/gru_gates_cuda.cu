// The CUDA backend's fused GRU step (formulas in gru.h): one thread per
// (b, j); rows may be strided, columns unit-strided.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_launch.h"
#include "kernels/gru_gates/gru_gates.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

template <typename T> struct GruGatesBody {
  const T *gi, *gh, *h;
  T *out, *saved;
  int64_t hidden, gi_row, gh_row, h_row, out_row, saved_row;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / hidden, j = o[0] - b * hidden, H = hidden;
    const T* x = gi + b * gi_row;
    const T* y = gh + b * gh_row;
    const T r = GpuMath::sigmoid(T(x[j] + y[j]));
    const T z = GpuMath::sigmoid(T(x[H + j] + y[H + j]));
    const T n = GpuMath::tanh(T(x[2 * H + j] + r * y[2 * H + j]));
    out[b * out_row + j] = n + z * (h[b * h_row + j] - n);
    T* s = saved + b * saved_row;
    s[j] = r, s[H + j] = z, s[2 * H + j] = n;
  }
};

template <typename T> struct GruGatesBackwardBody {
  const T *saved, *gh, *h, *dout;
  T *dgi, *dgh, *dh;
  int64_t hidden, saved_row, gh_row, h_row, dout_row, dgi_row, dgh_row, dh_row;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / hidden, j = o[0] - b * hidden, H = hidden;
    const T* s = saved + b * saved_row;
    const T r = s[j], z = s[H + j], n = s[2 * H + j];
    const T g = dout[b * dout_row + j];
    const T a_n = g * (T(1) - z) * (T(1) - n * n);
    const T a_z = g * (h[b * h_row + j] - n) * z * (T(1) - z);
    const T a_r = a_n * gh[b * gh_row + 2 * H + j] * r * (T(1) - r);
    dh[b * dh_row + j] = g * z;
    T* di = dgi + b * dgi_row;
    T* dg = dgh + b * dgh_row;
    di[j] = a_r, di[H + j] = a_z, di[2 * H + j] = a_n;
    dg[j] = a_r, dg[H + j] = a_z, dg[2 * H + j] = a_n * r;
  }
};


void gates_cuda(Backend& backend, const GruGatesArgs& a) {
  const Context ctx = context_of(backend);
  const Array gi = array(a.gi), gh = array(a.gh), h = array(a.h), out = array(a.out), saved = array(a.saved);
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  const Array g = grid(batch, hidden);
  visit_float(h.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    GruGatesBody<T>{static_cast<const T*>(gi.data), static_cast<const T*>(gh.data),
                                    static_cast<const T*>(h.data), static_cast<T*>(out.data),
                                    static_cast<T*>(saved.data), hidden, gi.strides[0], gh.strides[0],
                                    h.strides[0], out.strides[0], saved.strides[0]});
  });
  check_launch("gru_gates");
}

void gates_backward_cuda(Backend& backend, const GruGatesBackwardArgs& a) {
  const Context ctx = context_of(backend);
  const Array saved = array(a.saved), gh = array(a.gh), h = array(a.h), dout = array(a.dout), dgi = array(a.dgi),
              dgh = array(a.dgh), dh = array(a.dh);
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  const Array g = grid(batch, hidden);
  visit_float(h.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    GruGatesBackwardBody<T>{static_cast<const T*>(saved.data), static_cast<const T*>(gh.data),
                                            static_cast<const T*>(h.data), static_cast<const T*>(dout.data),
                                            static_cast<T*>(dgi.data), static_cast<T*>(dgh.data),
                                            static_cast<T*>(dh.data), hidden, saved.strides[0], gh.strides[0],
                                            h.strides[0], dout.strides[0], dgi.strides[0], dgh.strides[0],
                                            dh.strides[0]});
  });
  check_launch("gru_gates_backward");
}

const RegisterKernel cuda_gates(gru_gates_table(), "cuda", &gates_cuda);
const RegisterKernel cuda_gates_backward(gru_gates_backward_table(), "cuda", &gates_backward_cuda);

}  // namespace

}  // namespace tg::kernels
