// The cpu backend's additive attention scores (formulas in additive_score.h).
// One row (b, s) reads A keys and writes one score, so nothing of size
// (B, S, A) is stored: backward recomputes tanh instead of keeping it. Each
// row's loops over a vectorise (vectorised tanh of backends/cpu/cpu_math.h).
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/cpu_math.h"
#include "core/types/visit_dtype.h"
#include "kernels/additive_score/additive_score.h"

namespace tg::kernels {

namespace {

void score_cpu(Backend&, const AdditiveScoreArgs& args) {
  const View &keys = args.keys, &query = args.query, &v = args.v, &score = args.score;
  const int64_t batch = keys.shape[0], source = keys.shape[1], attention = keys.shape[2];
  visit_float(keys.dtype, "additive_score", [&]<typename T>() {
    cpu::parallel_ranges(batch * source, batch * source * attention * 4, [&](int64_t begin, int64_t end) {
      // tanh first into a row buffer, then the sum: with both in one loop GCC leaves the loop scalar.
      std::vector<T> tanh_row(static_cast<size_t>(attention));
      T* __restrict t = tanh_row.data();
      // A local copy: read through the closure, GCC gathered the pointer anew for every vector of the sum.
      const T* __restrict v_row = v.as<const T>();
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / source, s = row % source;
        const T* __restrict k = keys.as<const T>() + b * keys.strides[0] + s * keys.strides[1];
        const T* __restrict q = query.as<const T>() + b * query.strides[0];
#pragma omp simd
        for (int64_t a = 0; a < attention; ++a) t[a] = cpu::tanh_any(T(k[a] + q[a]));
        T sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t a = 0; a < attention; ++a) sum += v_row[a] * t[a];
        score.as<T>()[b * score.strides[0] + s * score.strides[1]] = sum;
      }
    });
  });
}

// Split over b, so that dquery's row b has one writer; dv is summed from
// per-b partial rows in order (the same result for any thread count).
void score_backward_cpu(Backend&, const AdditiveScoreBackwardArgs& args) {
  const View &keys = args.keys, &query = args.query, &v = args.v, &dscore = args.dscore;
  const View* dkeys = args.dkeys.data != nullptr ? &args.dkeys : nullptr;
  const View* dquery = args.dquery.data != nullptr ? &args.dquery : nullptr;
  const View* dv = args.dv.data != nullptr ? &args.dv : nullptr;
  const int64_t batch = keys.shape[0], source = keys.shape[1], attention = keys.shape[2];
  visit_float(keys.dtype, "additive_score_backward", [&]<typename T>() {
    std::vector<T> dv_rows(dv != nullptr ? batch * attention : 0, T(0));  // (B, A) partial sums of dv
    std::vector<T> scratch_rows(dquery == nullptr ? batch * attention : 0);  // stands in for an unwanted dquery
    const T* __restrict v_row = v.as<const T>();
    cpu::parallel_ranges(batch, batch * source * attention * 6, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const T* __restrict q = query.as<const T>() + b * query.strides[0];
        T* __restrict dq =
            dquery != nullptr ? dquery->as<T>() + b * dquery->strides[0] : &scratch_rows[b * attention];
        T* __restrict dv_b = dv != nullptr ? &dv_rows[b * attention] : nullptr;
        for (int64_t s = 0; s < source; ++s) {
          const T* __restrict k = keys.as<const T>() + b * keys.strides[0] + s * keys.strides[1];
          const T g = dscore.as<const T>()[b * dscore.strides[0] + s * dscore.strides[1]];
          T* __restrict dk =
              dkeys != nullptr ? dkeys->as<T>() + b * dkeys->strides[0] + s * dkeys->strides[1] : nullptr;
          if (dk != nullptr && dv_b != nullptr) {
#pragma omp simd
            for (int64_t a = 0; a < attention; ++a) {
              const T t = cpu::tanh_any(T(k[a] + q[a]));
              const T dsum = g * v_row[a] * (T(1) - t * t);
              dk[a] += dsum, dq[a] += dsum, dv_b[a] += g * t;
            }
          } else {
#pragma omp simd
            for (int64_t a = 0; a < attention; ++a) {
              const T t = cpu::tanh_any(T(k[a] + q[a]));
              const T dsum = g * v_row[a] * (T(1) - t * t);
              if (dk != nullptr) dk[a] += dsum;
              dq[a] += dsum;
              if (dv_b != nullptr) dv_b[a] += g * t;
            }
          }
        }
      }
    });
    if (dv == nullptr) return;
    T* const out = dv->as<T>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t a = 0; a < attention; ++a) out[a * dv->strides[0]] += dv_rows[b * attention + a];
  });
}

const RegisterKernel cpu_score(additive_score_table(), "cpu", &score_cpu);
const RegisterKernel cpu_score_backward(additive_score_backward_table(), "cpu", &score_backward_cpu);

}  // namespace

}  // namespace tg::kernels
