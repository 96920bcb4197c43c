// The CUDA backend's fused Adam step (adam_element.h): one thread per
// element; the _rn intrinsics there keep each operation's rounding.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_launch.h"
#include "kernels/adam_update/adam_update.h"
#include "kernels/adam_update/adam_element.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

template <typename T, bool amsgrad> struct AdamBody {
  T *p, *m, *v, *v_max;
  const T* g;
  adam::Coefficients<T> c;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t i = o[0];
    adam::element<amsgrad, GpuMath>(p[i], g[i], m[i], v[i], amsgrad ? v_max[i] : v[i], c);
  }
};


void adam_cuda(Backend& backend, const AdamArgs& args) {
  const Context ctx = context_of(backend);
  const Array param = array(args.param), grad = array(args.grad), exp_avg = array(args.exp_avg),
              exp_avg_sq = array(args.exp_avg_sq), v_max = array(args.max_exp_avg_sq);
  const Array* max_exp_avg_sq = args.max_exp_avg_sq.data != nullptr ? &v_max : nullptr;
  const AdamStep& step = args.step;
  const Array flat = grid(1, param.numel());  // the elements as one contiguous run
  visit_float(param.dtype, [&]<typename T>() {
    const adam::Coefficients<T> c = adam::coefficients<T>(step);
    T* const p = static_cast<T*>(param.data);
    T* const m = static_cast<T*>(exp_avg.data);
    T* const v = static_cast<T*>(exp_avg_sq.data);
    const T* const g = static_cast<const T*>(grad.data);
    if (max_exp_avg_sq != nullptr)
      map_elements<1>(ctx, {&flat}, AdamBody<T, true>{p, m, v, static_cast<T*>(max_exp_avg_sq->data), g, c});
    else
      map_elements<1>(ctx, {&flat}, AdamBody<T, false>{p, m, v, nullptr, g, c});
  });
  check_launch("adam_update");
}

const RegisterKernel cuda_adam(adam_update_table(), "cuda", &adam_cuda);

}  // namespace

}  // namespace tg::kernels
