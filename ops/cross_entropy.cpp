#include "ops/cross_entropy.h"

#include <algorithm>
#include <utility>

#include "core/creation.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/sum.h"

namespace tg {

namespace {

// 1 where target_i is not ignore_index, else 0: (R) of `dtype`, compared in float64.
Tensor valid_targets(const Tensor& target, int64_t ignore_index, DType dtype) {
  const Tensor ignored = full(Shape{}, static_cast<double>(ignore_index), {DType::f64, target.device()});
  return kernels::binary(BinaryOp::ne, target.to(DType::f64), ignored).to(dtype);
}

// One node from logits to per-row losses, saving the log-probabilities (the
// size of the logits, which it does not keep) and the targets:
//   logp = log_softmax(logits)
//   loss_i = -(1-ε) logp[i, t_i] - ε/C Σ_c logp[i, c]   (0 for ignored rows)
// Backward turns e^logp, in a new (R, C) buffer, into the gradient in place,
// which then becomes the logits' gradient without a copy:
//   dlogits[i, c] = dloss_i [t_i ≠ ignore] e^logp[i, c] - dloss_i ((1-ε)[c = t_i] + ε/C)
// (the log-softmax backward dlogp - e^logp Σ_c dlogp, with Σ_c dlogp = -dloss_i).
// logits (R, C), target int64 (R) -> loss (R)
Tensor log_softmax_nll(const Tensor& logits, const Tensor& target, int64_t ignore_index, double smoothing) {
  const ProfileScope profile("log_softmax_nll");
  const Tensor logp = kernels::softmax_rows(logits.contiguous(), true);
  Tensor loss = kernels::nll_rows(logp, target, ignore_index, smoothing);
  const Saved logp_saved = save_if(logits.requires_grad(), "logp", logp),
              target_saved = save_if(logits.requires_grad(), "target", target);
  record("log_softmax_nll", {&logits}, loss, {logp_saved, target_saved},
         [dlogits = slot_of(logits), logp_saved, target_saved, ignore_index, smoothing](const Tensor& dloss_in) {
    const Tensor &logp = logp_saved.get(), &target = target_saved.get();
    const Tensor dloss = dloss_in.contiguous();
    Tensor gradient = kernels::unary(UnaryOp::exp, logp);  // softmax, about to become dlogits
    // scale_i = dloss_i [t_i ≠ ignore], broadcast along the row
    const Tensor scale = kernels::binary(BinaryOp::mul, dloss, valid_targets(target, ignore_index, dloss.dtype()));
    const int64_t rows = gradient.size(0), cols = gradient.size(1);
    const Tensor scale_rows = make_view(scale, Shape{rows, cols}, Strides{1, 0}, scale.offset());
    kernels::binary_into(BinaryOp::mul, gradient, scale_rows);
    kernels::nll_rows_backward(target, ignore_index, smoothing, dloss, gradient);
    accumulate_grad(*dlogits, std::move(gradient));  // adopted as the logits' gradient, not copied
  });
  return loss;
}

// The number of targets that are not ignore_index, counted with kernels in float64.
double count_valid(const Tensor& target, int64_t ignore_index) {
  if (target.numel() == 0) return 0;
  return kernels::reduce(ReduceOp::sum, valid_targets(target, ignore_index, DType::f64), 0).item();
}

}  // namespace

// log_softmax_nll (one node, above), then the reduction. The gradient is
//   dlogits = (softmax - (1-ε)·onehot(t) - ε/C) · dloss.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options) {
  const ProfileScope profile("cross_entropy");
  check_defined(logits, "cross_entropy", "logits");
  check_defined(target, "cross_entropy", "target");
  check_floating(logits, "cross_entropy");
  if (target.dtype() != DType::i64)
    fail("cross_entropy: target must hold int64 class indices, got {}", dtype_name(target.dtype()));
  if (logits.device() != target.device())
    fail("cross_entropy: logits on {} and target on {}", logits.device().str(), target.device().str());
  if (logits.ndim() != 2 && logits.ndim() != 3)
    fail("cross_entropy: logits must be (N, C) or (N, T, C), got {}", logits.shape().str());
  if (target.ndim() != logits.ndim() - 1)
    fail("cross_entropy: logits {} need target of rank {}, got target {}", logits.shape().str(), logits.ndim() - 1,
         target.shape().str());
  for (int i = 0; i < target.ndim(); ++i)
    if (target.shape()[i] != logits.shape()[i])
      fail("cross_entropy: logits {} and target {}: {} differ", logits.shape().str(), target.shape().str(),
           i == 0 ? "batch sizes" : "sequence lengths");
  const int64_t classes = logits.size(-1);
  if (classes == 0) fail("cross_entropy: logits {} have no classes", logits.shape().str());
  const double eps = options.label_smoothing;
  if (!(eps >= 0 && eps <= 1)) fail("cross_entropy: label_smoothing must be in [0, 1], got {}", eps);

  // (N, T, C) -> (N·T, C) rows; targets likewise.
  const Tensor logits_rows = logits.ndim() == 2 ? logits : reshape(logits, Shape{-1, classes});
  const Tensor target_flat = target.contiguous();
  const Shape rows_shape{target.numel()};
  const Tensor target_rows = make_view(target_flat, rows_shape, contiguous_strides(rows_shape), target_flat.offset());

  Tensor loss;
  try {
    loss = log_softmax_nll(logits_rows, target_rows, options.ignore_index, eps);
  } catch (const Error& e) {  // e.g. a target out of range; say which call it was
    fail("cross_entropy: logits {}, target {}: {}", logits.shape().str(), target.shape().str(), e.what());
  }

  switch (options.reduction) {
    case Reduction::none: return logits.ndim() == 2 ? loss : reshape(loss, target.shape());
    case Reduction::sum: return sum(loss);
    case Reduction::mean: break;
  }
  // Mean over the non-ignored targets; all ignored gives 0 (every row's loss is 0).
  const double count = count_valid(target_rows, options.ignore_index);
  return sum(loss) * (1.0 / std::max(count, 1.0));
}

}  // namespace tg
