#pragma once
// One Adam update of one element, written once for every backend that
// compiles it: the reference and cpu backends and the CUDA kernels. The
// scalars come from the optimizer (optim/adam.cpp) once per parameter:
//
//   p ← a·p                              (AdamW's decoupled decay, a = 1 − lr·wd; 1 for Adam)
//   g ← s·∇p                             (s: a clipping factor folded in; 1 otherwise)
//   g ← g + wd·p                         (Adam's L2 decay; wd = 0 for AdamW)
//   m ← β₁·m + (1 − β₁)·g
//   v ← β₂·v + (1 − β₂)·g²
//   v̂ ← max(v̂, v) with amsgrad, else v
//   p ← p − step_size · m / (√v̂ / √bc₂ + ε),   step_size = lr/bc₁, bcᵢ = 1 − βᵢᵗ
//
// Each line is evaluated as the separate kernels the optimizer used to call
// did it, one rounding per operation in the element type: the scalars are
// rounded to T first, there is no fused multiply-add, so float32 and float64
// results are those of the composed kernels bit for bit. Host loops that
// inline this must be compiled without contraction (below); on the GPU the
// _rn intrinsics forbid it.
//
// Nothing here includes a tapegrad or CUDA header, so nvcc compiles it too.
#include "kernels/adam_update/adam_update.h"
#include "core/dispatch/elementwise.h"  // TG_HOST_DEVICE

// GCC contracts a·b + c into an FMA across statements once this is inlined
// (-ffp-contract=fast is its default in C++): a loop calling adam::element is
// compiled with -ffp-contract=off (kernels/adam_update/adam_update_cpu.cpp, see kernels/meson.build)
// or carries TG_NO_FP_CONTRACT (the reference loop; the attribute keeps
// libm's sqrt from inlining, so the fast loop uses the file flag instead).
// Clang contracts only within one expression, and mul/add below keep each
// operation apart.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define TG_NO_FP_CONTRACT __attribute__((optimize("fp-contract=off"), noinline))
#define TG_ADAM_INLINE inline __attribute__((always_inline))  // inlined whatever the caller's flags
#else
#define TG_NO_FP_CONTRACT
#define TG_ADAM_INLINE TG_HOST_DEVICE
#endif

namespace tg {

namespace adam {

// The scalars rounded to the element type, as the composed kernels rounded them.
template <class T> struct Coefficients {
  T beta1, one_minus_beta1, beta2, one_minus_beta2, neg_step_size, sqrt_bc2, eps, weight_decay, param_scale,
      grad_scale;
  bool decay, scale, scale_grad;  // weight_decay != 0, param_scale != 1, grad_scale != 1: skipped otherwise
};

template <class T> TG_HOST_DEVICE Coefficients<T> coefficients(const AdamStep& s) {
  return {T(s.beta1), T(1 - s.beta1), T(s.beta2), T(1 - s.beta2), T(-s.step_size), T(s.sqrt_bias_correction2),
          T(s.eps), T(s.weight_decay), T(s.param_scale), T(s.grad_scale), s.weight_decay != 0, s.param_scale != 1,
          s.grad_scale != 1};
}

// One rounding per operation, also where nvcc would fuse a·b + c.
#if defined(__CUDA_ARCH__)
__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double add(double a, double b) { return __dadd_rn(a, b); }
#else
template <class T> TG_ADAM_INLINE T mul(T a, T b) { return a * b; }
template <class T> TG_ADAM_INLINE T add(T a, T b) { return a + b; }
#endif

// Updates p, m, v (and v̂ with Amsgrad) from the gradient g; M::sqrt is the
// device's square root. Without Amsgrad v_max is not touched.
template <bool amsgrad, class M, class T>
TG_ADAM_INLINE void element(T& p, T g, T& m, T& v, T& v_max, const Coefficients<T>& c) {
  T param = p;
  if (c.scale) param = mul(param, c.param_scale);                   // p·(1 − lr·wd)
  if (c.scale_grad) g = mul(g, c.grad_scale);                        // s·∇p, as scale_(∇p, s) rounds it
  if (c.decay) g = add(g, mul(param, c.weight_decay));               // g + wd·p
  const T m_new = add(mul(m, c.beta1), mul(g, c.one_minus_beta1));  // β₁m + (1 − β₁)g
  const T g2 = mul(g, g);
  const T v_new = add(mul(v, c.beta2), mul(g2, c.one_minus_beta2));  // β₂v + (1 − β₂)g²
  m = m_new;
  v = v_new;
  T second = v_new;
  if constexpr (amsgrad) {
    const T prev = v_max;
    second = prev > v_new || prev != prev ? prev : v_new;  // max, NaN wins (BinaryOp::maximum)
    v_max = second;
  }
  const T denom = add(M::sqrt(second) / c.sqrt_bc2, c.eps);  // √v̂/√bc₂ + ε
  p = add(param, mul(m_new / denom, c.neg_step_size));       // p − step_size·m/denom
}

}  // namespace adam
}  // namespace tg
