// The CUDA backend's additive attention scores (formulas in additive_score.h);
// last axes unit-strided. Forward: one thread per (b, s). Backward: one
// thread per element of each gradient asked for, summing over s (dquery) or
// over b and s (dv) in order, so results do not depend on scheduling.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_launch.h"
#include "kernels/additive_score/additive_score.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

// keys (B, S, A), query (B, A), v (A) and a (B, S) operand, rows strided.
template <typename T> struct AdditiveOperands {
  const T *keys, *query, *v;
  int64_t source, attention, keys_b, keys_s, query_b;
  __device__ T t(int64_t b, int64_t s, int64_t a) const {
    return GpuMath::tanh(T(keys[b * keys_b + s * keys_s + a] + query[b * query_b + a]));
  }
};

template <typename T> struct AdditiveScoreBody {
  AdditiveOperands<T> in;
  T* score;
  int64_t score_b, score_s;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / in.source, s = o[0] - b * in.source;
    T sum = 0;
    for (int64_t a = 0; a < in.attention; ++a) sum += in.v[a] * in.t(b, s, a);
    score[b * score_b + s * score_s] = sum;
  }
};

template <typename T> struct AdditiveDkeysBody {  // one thread per (b, s, a)
  AdditiveOperands<T> in;
  const T* dscore;
  int64_t dscore_b, dscore_s;
  T* dkeys;
  int64_t dkeys_b, dkeys_s;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t row = o[0] / in.attention, a = o[0] - row * in.attention;
    const int64_t b = row / in.source, s = row - b * in.source;
    const T t = in.t(b, s, a);
    dkeys[b * dkeys_b + s * dkeys_s + a] += dscore[b * dscore_b + s * dscore_s] * in.v[a] * (T(1) - t * t);
  }
};

template <typename T> struct AdditiveDqueryBody {  // one thread per (b, a)
  AdditiveOperands<T> in;
  const T* dscore;
  int64_t dscore_b, dscore_s;
  T* dquery;
  int64_t dquery_b;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / in.attention, a = o[0] - b * in.attention;
    T sum = 0;
    for (int64_t s = 0; s < in.source; ++s) {
      const T t = in.t(b, s, a);
      sum += dscore[b * dscore_b + s * dscore_s] * in.v[a] * (T(1) - t * t);
    }
    dquery[b * dquery_b + a] += sum;
  }
};

template <typename T> struct AdditiveDvBody {  // one thread per a
  AdditiveOperands<T> in;
  const T* dscore;
  int64_t dscore_b, dscore_s, batch;
  T* dv;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t a = o[0];
    T sum = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < in.source; ++s) sum += dscore[b * dscore_b + s * dscore_s] * in.t(b, s, a);
    dv[a] += sum;
  }
};

template <typename T> AdditiveOperands<T> additive_operands(const Array& keys, const Array& query, const Array& v) {
  return {static_cast<const T*>(keys.data), static_cast<const T*>(query.data), static_cast<const T*>(v.data),
          keys.shape[1], keys.shape[2], keys.strides[0], keys.strides[1], query.strides[0]};
}


void score_cuda(Backend& backend, const AdditiveScoreArgs& args) {
  const Context ctx = context_of(backend);
  const Array keys = array(args.keys), query = array(args.query), v = array(args.v), score = array(args.score);
  const Array g = grid(keys.shape[0], keys.shape[1]);
  visit_float(keys.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    AdditiveScoreBody<T>{additive_operands<T>(keys, query, v), static_cast<T*>(score.data),
                                         score.strides[0], score.strides[1]});
  });
  check_launch("additive_score");
}

void score_backward_cuda(Backend& backend, const AdditiveScoreBackwardArgs& args) {
  const Context ctx = context_of(backend);
  const Array keys = array(args.keys), query = array(args.query), v = array(args.v), dscore = array(args.dscore);
  const Array dkeys_array = array(args.dkeys), dquery_array = array(args.dquery), dv_array = array(args.dv);
  const Array* dkeys = args.dkeys.data != nullptr ? &dkeys_array : nullptr;
  const Array* dquery = args.dquery.data != nullptr ? &dquery_array : nullptr;
  const Array* dv = args.dv.data != nullptr ? &dv_array : nullptr;
  const int64_t batch = keys.shape[0], source = keys.shape[1], attention = keys.shape[2];
  visit_float(keys.dtype, [&]<typename T>() {
    const AdditiveOperands<T> in = additive_operands<T>(keys, query, v);
    const T* g = static_cast<const T*>(dscore.data);
    if (dkeys != nullptr) {
      const Array cells = grid(batch * source, attention);
      map_elements<1>(ctx, {&cells},
                      AdditiveDkeysBody<T>{in, g, dscore.strides[0], dscore.strides[1], static_cast<T*>(dkeys->data),
                                           dkeys->strides[0], dkeys->strides[1]});
    }
    if (dquery != nullptr) {
      const Array cells = grid(batch, attention);
      map_elements<1>(ctx, {&cells},
                      AdditiveDqueryBody<T>{in, g, dscore.strides[0], dscore.strides[1],
                                            static_cast<T*>(dquery->data), dquery->strides[0]});
    }
    if (dv != nullptr) {
      const Array cells = grid(1, attention);
      map_elements<1>(ctx, {&cells},
                      AdditiveDvBody<T>{in, g, dscore.strides[0], dscore.strides[1], batch, static_cast<T*>(dv->data)});
    }
  });
  check_launch("additive_score_backward");
}

const RegisterKernel cuda_score(additive_score_table(), "cuda", &score_cuda);
const RegisterKernel cuda_score_backward(additive_score_backward_table(), "cuda", &score_backward_cuda);

}  // namespace

}  // namespace tg::kernels
