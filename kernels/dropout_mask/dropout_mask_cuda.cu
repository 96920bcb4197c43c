// The CUDA backend's dropout factors (dropout_mask.h): one thread per element.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_launch.h"
#include "core/dispatch/random_bits.h"
#include "kernels/dropout_mask/dropout_mask.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

template <typename T> struct DropoutMaskBody {
  T* out;
  uint64_t key;
  double keep;
  T scale;
  __device__ void operator()(const int64_t (&o)[1]) const {
    out[o[0]] = random_bits::dropout_scale(key, static_cast<uint64_t>(o[0]), keep, scale);
  }
};


void mask_cuda(Backend& backend, const DropoutMaskArgs& args) {
  const Context ctx = context_of(backend);
  const Array out = array(args.out);
  const uint64_t key = args.key;
  const double keep = 1 - args.p, scale = 1 / keep;
  const Array flat = grid(1, out.numel());
  visit_float(out.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&flat}, DropoutMaskBody<T>{static_cast<T*>(out.data), key, keep, static_cast<T>(scale)});
  });
  check_launch("dropout_mask");
}

const RegisterKernel cuda_mask(dropout_mask_table(), "cuda", &mask_cuda);

}  // namespace

}  // namespace tg::kernels
