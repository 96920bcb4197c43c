// The cpu backend's dot-product attention (formulas in dot_attention.h):
// batch rows b (batch × heads) in parallel, one query row at a time inside,
// its S scores in a row buffer: nothing of size (B, L, S) is kept, backward
// recomputes the scores from q, k and the forward's log-sum-exp. dk and dv of
// row b have one writer (its thread), so results do not depend on threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "core/dispatch/random_bits.h"
#include "kernels/dot_attention/dot_attention.h"

namespace tg::kernels {

namespace {

// Pointer to row (b, i) of a (B, rows, width) view with a unit last stride.
template <typename T>
T* row(const View& v, int64_t b, int64_t i) {
  return v.as<T>() + b * v.strides[0] + i * v.strides[1];
}

// Row i of b's scores into s[0, S): scale q·k + masks (−∞ where not allowed).
template <typename T>
void scores(const DotAttentionArgs& a, int64_t b, int64_t i, T* __restrict s) {
  const int64_t S = a.k.shape[1], D = a.q.shape[2];
  const T* __restrict q = row<const T>(a.q, b, i);
  const T* bias = a.bias.data != nullptr ? row<const T>(a.bias, a.bias.shape[0] == 1 ? 0 : b, i) : nullptr;
  const T* key_bias = a.key_bias.data != nullptr ? a.key_bias.as<const T>() + (b / a.heads) * a.key_bias.strides[0]
                                                 : nullptr;
  const int64_t bias_step = bias != nullptr ? a.bias.strides[2] : 0;
  const int64_t key_step = key_bias != nullptr ? a.key_bias.strides[1] : 0;
  const int64_t visible = a.causal ? std::min(S, i + 1) : S;
  for (int64_t j = 0; j < visible; ++j) {
    const T* __restrict k = row<const T>(a.k, b, j);
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t d = 0; d < D; ++d) dot += q[d] * k[d];
    T value = dot * static_cast<T>(a.scale);
    if (bias != nullptr) value += bias[j * bias_step];
    if (key_bias != nullptr) value += key_bias[j * key_step];
    s[j] = value;
  }
  for (int64_t j = visible; j < S; ++j) s[j] = -std::numeric_limits<T>::infinity();
}

template <typename T>
T keep(const DotAttentionArgs& a, int64_t b, int64_t i, int64_t j) {
  if (a.dropout == 0) return T(1);
  const int64_t L = a.q.shape[1], S = a.k.shape[1];
  return random_bits::dropout_scale(a.dropout_key, static_cast<uint64_t>((b * L + i) * S + j), 1 - a.dropout,
                                    static_cast<T>(1 / (1 - a.dropout)));
}

void forward_cpu(Backend&, const DotAttentionArgs& a) {
  const int64_t B = a.q.shape[0], L = a.q.shape[1], S = a.k.shape[1], D = a.q.shape[2], Dv = a.v.shape[2];
  visit_float(a.q.dtype, "dot_attention", [&]<typename T>() {
    cpu::parallel_ranges(B, B * L * S * (2 * D + 2 * Dv), [&](int64_t begin, int64_t end) {
      std::vector<T> s(static_cast<size_t>(S));
      for (int64_t b = begin; b < end; ++b)
        for (int64_t i = 0; i < L; ++i) {
          scores<T>(a, b, i, s.data());
          const T top = *std::max_element(s.begin(), s.end());
          T sum = 0;
          for (int64_t j = 0; j < S; ++j) sum += s[j] = std::exp(s[j] - top);
          T* __restrict o = row<T>(a.out, b, i);
          std::fill(o, o + Dv, T(0));
          for (int64_t j = 0; j < S; ++j) {
            const T p = s[j] / sum * keep<T>(a, b, i, j);
            if (p == 0) continue;
            const T* __restrict v = row<const T>(a.v, b, j);
#pragma omp simd
            for (int64_t d = 0; d < Dv; ++d) o[d] += p * v[d];
          }
          a.lse.as<T>()[b * a.lse.strides[0] + i * a.lse.strides[1]] = top + std::log(sum);
        }
    });
  });
}

void backward_cpu(Backend&, const DotAttentionBackwardArgs& g) {
  const DotAttentionArgs& a = g.forward;
  const int64_t B = a.q.shape[0], L = a.q.shape[1], S = a.k.shape[1], D = a.q.shape[2], Dv = a.v.shape[2];
  visit_float(a.q.dtype, "dot_attention_backward", [&]<typename T>() {
    cpu::parallel_ranges(B, B * L * S * (4 * D + 4 * Dv), [&](int64_t begin, int64_t end) {
      std::vector<T> s(static_cast<size_t>(S)), dq(static_cast<size_t>(D));
      for (int64_t b = begin; b < end; ++b)
        for (int64_t i = 0; i < L; ++i) {
          scores<T>(a, b, i, s.data());
          const T lse = a.lse.as<const T>()[b * a.lse.strides[0] + i * a.lse.strides[1]];
          const T* __restrict dout = row<const T>(g.dout, b, i);
          const T* __restrict out = row<const T>(a.out, b, i);
          const T* __restrict q = row<const T>(a.q, b, i);
          T D_i = 0;
#pragma omp simd reduction(+ : D_i)
          for (int64_t d = 0; d < Dv; ++d) D_i += dout[d] * out[d];
          std::fill(dq.begin(), dq.end(), T(0));
          for (int64_t j = 0; j < S; ++j) {
            const T p = std::exp(s[j] - lse);
            if (p == 0) continue;
            const T m = keep<T>(a, b, i, j);
            const T* __restrict v = row<const T>(a.v, b, j);
            const T* __restrict k = row<const T>(a.k, b, j);
            T dp = 0;
#pragma omp simd reduction(+ : dp)
            for (int64_t d = 0; d < Dv; ++d) dp += dout[d] * v[d];
            const T ds = p * (m * dp - D_i) * static_cast<T>(a.scale);
            if (g.dv.data != nullptr && m != 0) {
              T* __restrict dv = row<T>(g.dv, b, j);
              const T pm = p * m;
#pragma omp simd
              for (int64_t d = 0; d < Dv; ++d) dv[d] += pm * dout[d];
            }
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) dq[d] += ds * k[d];
            if (g.dk.data != nullptr) {
              T* __restrict dk = row<T>(g.dk, b, j);
#pragma omp simd
              for (int64_t d = 0; d < D; ++d) dk[d] += ds * q[d];
            }
          }
          if (g.dq.data != nullptr) std::copy(dq.begin(), dq.end(), row<T>(g.dq, b, i));
        }
    });
  });
}

const RegisterKernel cpu_forward(dot_attention_table(), "cpu", &forward_cpu);
const RegisterKernel cpu_backward(dot_attention_backward_table(), "cpu", &backward_cpu);

}  // namespace

}  // namespace tg::kernels
