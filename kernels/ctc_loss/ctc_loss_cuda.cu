// The CUDA backend's CTC loss: the recursion of ctc_recursion.h (its
// formulas there), one block per sequence. The block's threads share the
// extended label positions s of one time step and meet at a barrier before
// the next, so α and β (double, log space, in scratch memory) are computed
// in the same order, with the same sums, as on the host. The gradient is
// then one thread per (t, class), summing α_t(s) β_t(s) over the positions
// holding that class in increasing s, as the host does.
#include <cuda_runtime.h>

#include <cmath>

#include "backends/cuda/cuda_launch.h"
#include "kernels/ctc_loss/ctc_loss.h"

namespace tg::kernels {

namespace {

using namespace cuda_kernels;

constexpr int kCtcThreads = 256;

__device__ double log_add(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return fmax(a, b) + log1p(exp(-fabs(a - b)));
}

struct CtcSequence {
  const int64_t* labels;
  int64_t count, blank;
  __device__ int64_t label(int64_t s) const { return s % 2 == 0 ? blank : labels[s / 2]; }
  // May position s also come from s − 2 (skipping a blank)?
  __device__ bool skips(int64_t s) const { return s >= 2 && label(s) != blank && label(s) != label(s - 2); }
};

template <typename T>
__global__ void ctc_kernel(const T* lp, int64_t lp_t, int64_t lp_b, int64_t lp_c, const int64_t* targets,
                           int64_t target_row, const int64_t* input_lengths, int64_t input_stride,
                           const int64_t* target_lengths, int64_t target_stride, int64_t blank, int64_t T_max,
                           int64_t C, int64_t L_max, double* alpha_all, double* beta_all, T* loss,
                           int64_t loss_stride, T* grad, int64_t g_t, int64_t g_b, int64_t g_c) {
  const int64_t b = blockIdx.x;
  const int64_t steps = input_lengths[b * input_stride];
  const CtcSequence seq{targets + b * target_row, target_lengths[b * target_stride], blank};
  const int64_t L = 2 * seq.count + 1;
  double* alpha = alpha_all + b * T_max * L_max;
  double* beta = beta_all + b * T_max * L_max;
  auto log_prob = [&](int64_t t, int64_t c) { return double(lp[t * lp_t + b * lp_b + c * lp_c]); };

  for (int64_t s = threadIdx.x; s < L; s += blockDim.x)
    alpha[s] = s == 0 ? log_prob(0, blank) : s == 1 ? log_prob(0, seq.label(1)) : -INFINITY;
  __syncthreads();
  for (int64_t t = 1; t < steps; ++t) {
    const double* before = alpha + (t - 1) * L;
    for (int64_t s = threadIdx.x; s < L; s += blockDim.x) {
      double sum = before[s];
      if (s >= 1) sum = log_add(sum, before[s - 1]);
      if (seq.skips(s)) sum = log_add(sum, before[s - 2]);
      alpha[t * L + s] = sum == -INFINITY ? -INFINITY : sum + log_prob(t, seq.label(s));
    }
    __syncthreads();
  }
  const double* last = alpha + (steps - 1) * L;
  const double log_p = L > 1 ? log_add(last[L - 1], last[L - 2]) : last[L - 1];
  if (threadIdx.x == 0) loss[b * loss_stride] = T(-log_p);
  if (grad == nullptr) return;

  T* g = grad + b * g_b;
  if (log_p == -INFINITY) {  // no alignment fits: a zero gradient
    for (int64_t i = threadIdx.x; i < T_max * C; i += blockDim.x) g[(i / C) * g_t + (i % C) * g_c] = T(0);
    return;
  }
  for (int64_t s = threadIdx.x; s < L; s += blockDim.x)
    beta[(steps - 1) * L + s] = s == L - 1   ? log_prob(steps - 1, blank)
                                : s == L - 2 ? log_prob(steps - 1, seq.label(L - 2))
                                             : -INFINITY;
  __syncthreads();
  for (int64_t t = steps - 2; t >= 0; --t) {
    const double* after = beta + (t + 1) * L;
    for (int64_t s = threadIdx.x; s < L; s += blockDim.x) {
      double sum = after[s];
      if (s + 1 < L) sum = log_add(sum, after[s + 1]);
      if (s + 2 < L && seq.skips(s + 2)) sum = log_add(sum, after[s + 2]);
      beta[t * L + s] = sum == -INFINITY ? -INFINITY : sum + log_prob(t, seq.label(s));
    }
    __syncthreads();
  }
  for (int64_t i = threadIdx.x; i < T_max * C; i += blockDim.x) {
    const int64_t t = i / C, c = i % C;
    T& out = g[t * g_t + c * g_c];
    if (t >= steps) {
      out = T(0);
      continue;
    }
    double sum = -INFINITY;
    // The positions holding class c: the even ones for the blank, 2j + 1 where labels[j] = c otherwise.
    for (int64_t s = c == blank ? 0 : 1; s < L; s += 2)
      if (c == blank || seq.labels[s / 2] == c) sum = log_add(sum, alpha[t * L + s] + beta[t * L + s]);
    out = sum == -INFINITY ? T(0) : T(-exp(sum - log_prob(t, c) - log_p));
  }
}

// Scratch holds α and β of every sequence: 2·B·T·(2S + 1) doubles.
void ctc_cuda(Backend& backend, const CtcLossArgs& args) {
  const Context ctx = context_of(backend);
  const Array log_probs = array(args.log_probs), targets = array(args.targets),
              input_lengths = array(args.input_lengths), target_lengths = array(args.target_lengths),
              loss = array(args.loss), grad_array = array(args.grad);
  const Array* grad = args.grad.data != nullptr ? &grad_array : nullptr;
  const int64_t blank = args.blank;
  const int64_t T_max = log_probs.shape[0], B = log_probs.shape[1], C = log_probs.shape[2];
  const int64_t L_max = 2 * targets.shape[1] + 1;
  if (B == 0) return;
  check_blocks("ctc_loss", B);
  DeviceScratch alpha_beta(backend, static_cast<size_t>(2 * B * T_max * L_max) * sizeof(double));
  double* scratch = static_cast<double*>(alpha_beta.data());
  double* alpha = scratch;
  double* beta = scratch + B * T_max * L_max;
  auto launch = [&]<typename T>() {
    ctc_kernel<T><<<static_cast<unsigned>(B), kCtcThreads, 0, ctx.stream>>>(
        static_cast<const T*>(log_probs.data), log_probs.strides[0], log_probs.strides[1], log_probs.strides[2],
        static_cast<const int64_t*>(targets.data), targets.strides[0], static_cast<const int64_t*>(input_lengths.data),
        input_lengths.strides[0], static_cast<const int64_t*>(target_lengths.data), target_lengths.strides[0], blank,
        T_max, C, L_max, alpha, beta, static_cast<T*>(loss.data), loss.strides[0],
        grad != nullptr ? static_cast<T*>(grad->data) : nullptr, grad != nullptr ? grad->strides[0] : 0,
        grad != nullptr ? grad->strides[1] : 0, grad != nullptr ? grad->strides[2] : 0);
  };
  if (log_probs.dtype == DType::f64) launch.template operator()<double>();
  else launch.template operator()<float>();
  check_launch("ctc_loss");
}

const RegisterKernel cuda_ctc(ctc_loss_table(), "cuda", &ctc_cuda);

}  // namespace

}  // namespace tg::kernels
