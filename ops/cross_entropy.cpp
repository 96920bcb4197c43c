#include "ops/cross_entropy.h"

#include <algorithm>
#include <utility>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "kernels/nll/nll.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/sum.h"

namespace tg {

namespace {
// The fused NLL kernels (kernels/nll/nll.h) on tensors.
Tensor nll_loss_rows(const Tensor& logp, const Tensor& target, int64_t ignore_index, double smoothing) {
  Tensor loss = compute::empty_like(logp, Shape{logp.shape()[0]});
  kernels::nll(backend_for(logp.device()), {logp.view(), target.view(), ignore_index, smoothing, loss.view()});
  return loss;
}
void nll_loss_rows_backward(const Tensor& target, int64_t ignore_index, double smoothing, const Tensor& dloss,
                            const Tensor& dlogp) {
  compute::mark_written(dlogp);
  kernels::nll_backward(backend_for(dlogp.device()), {target.view(), ignore_index, smoothing, dloss.view(), dlogp.view()});
}
}  // namespace

namespace {

// 1 where target_i is not ignore_index, else 0: (R) of `dtype`, compared in float64.
Tensor valid_targets(const Tensor& target, int64_t ignore_index, DType dtype) {
  const Tensor ignored = full(Shape{}, static_cast<double>(ignore_index), {DType::f64, target.device()});
  return compute::binary(BinaryOp::ne, target.to(DType::f64), ignored).to(dtype);
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
  const Tensor logp = compute::softmax_rows(contiguous_values(logits), true);
  Tensor loss = nll_loss_rows(logp, target, ignore_index, smoothing);
  const Saved logp_saved = save_if(logits.requires_grad(), "logp", logp),
              target_saved = save_if(logits.requires_grad(), "target", target);
  record("log_softmax_nll", {&logits}, loss, {logp_saved, target_saved},
         [dlogits = slot_of(logits), logp_saved, target_saved, ignore_index, smoothing](const Tensor& dloss_in) {
    const Tensor &logp = logp_saved.get(), &target = target_saved.get();
    const Tensor dloss = contiguous_values(dloss_in);
    Tensor gradient = compute::unary(UnaryOp::exp, logp);  // softmax, about to become dlogits
    // scale_i = dloss_i [t_i ≠ ignore], broadcast along the row
    const Tensor scale = compute::binary(BinaryOp::mul, dloss, valid_targets(target, ignore_index, dloss.dtype()));
    const int64_t rows = gradient.size(0), cols = gradient.size(1);
    const Tensor scale_rows = make_view(scale, Shape{rows, cols}, Strides{1, 0}, scale.offset());
    compute::binary_into(BinaryOp::mul, gradient, scale_rows);
    nll_loss_rows_backward(target, ignore_index, smoothing, dloss, gradient);
    accumulate_grad(*dlogits, std::move(gradient));  // adopted as the logits' gradient, not copied
  });
  return loss;
}

// The number of targets that are not ignore_index, counted with kernels in float64.
double count_valid(const Tensor& target, int64_t ignore_index) {
  if (target.numel() == 0) return 0;
  return compute::reduce(ReduceOp::sum, valid_targets(target, ignore_index, DType::f64), 0).item();
}


// One node from log-probabilities to per-row losses, saving only the targets:
//   loss_i = -logp[i, t_i] (0 for ignored rows);  dlogp[i, c] = -dloss_i [c = t_i]
// logp (R, C), target int64 (R) -> loss (R)
Tensor nll_rows(const Tensor& logp, const Tensor& target, int64_t ignore_index) {
  const ProfileScope profile("nll_rows");
  Tensor loss = nll_loss_rows(contiguous_values(logp), target, ignore_index, 0.0);
  const Saved target_saved = save_if(logp.requires_grad(), "target", target);
  record("nll_rows", {&logp}, loss, {target_saved},
         [dlogp = slot_of(logp), target_saved, ignore_index, shape = logp.shape()](const Tensor& dloss) {
           Tensor gradient = compute::empty_like(dloss, shape);
           compute::fill(gradient, 0);
           nll_loss_rows_backward(target_saved.get(), ignore_index, 0.0, contiguous_values(dloss), gradient);
           accumulate_grad(*dlogp, std::move(gradient));
         });
  return loss;
}

// The checks cross_entropy and nll_loss share, and their (R, C) rows and (R) targets.
struct ClassRows {
  Tensor scores, target;
};

ClassRows class_rows(const char* op, const char* what, const Tensor& scores, const Tensor& target,
                     const CrossEntropyOptions& options) {
  check_defined(scores, op, what);
  check_defined(target, op, "target");
  check_floating(scores, op);
  if (target.dtype() != DType::i64)
    fail("{}: target must hold int64 class indices, got {}", op, dtype_name(target.dtype()));
  if (scores.device() != target.device())
    fail("{}: {} on {} and target on {}", op, what, scores.device().str(), target.device().str());
  if (scores.ndim() != 2 && scores.ndim() != 3)
    fail("{}: {} must be (N, C) or (N, T, C), got {}", op, what, scores.shape().str());
  if (target.ndim() != scores.ndim() - 1)
    fail("{}: {} {} need target of rank {}, got target {}", op, what, scores.shape().str(), scores.ndim() - 1,
         target.shape().str());
  // PyTorch's layout (N, C, T) with target (N, T): the classes are in the middle.
  if (scores.ndim() == 3 && target.shape()[0] == scores.shape()[0] && target.shape()[1] == scores.shape()[2] &&
      target.shape()[1] != scores.shape()[1])
    fail("{}: {} {} with target {} looks like PyTorch's (N, C, T) layout; here the classes go last, (N, T, C): "
         "pass transpose({}, 1, 2)",
         op, what, scores.shape().str(), target.shape().str(), what);
  for (int i = 0; i < target.ndim(); ++i)
    if (target.shape()[i] != scores.shape()[i])
      fail("{}: {} {} and target {}: {} differ (the classes go last: (N, C) or (N, T, C))", op, what,
           scores.shape().str(), target.shape().str(), i == 0 ? "batch sizes" : "sequence lengths");
  const int64_t classes = scores.size(-1);
  if (classes == 0) fail("{}: {} {} have no classes", op, what, scores.shape().str());
  const double eps = options.label_smoothing;
  if (!(eps >= 0 && eps <= 1)) fail("{}: label_smoothing must be in [0, 1], got {}", op, eps);
  // (N, T, C) -> (N·T, C) rows; targets likewise.
  const Tensor target_flat = contiguous_values(target);
  const Shape rows_shape{target.numel()};
  return {scores.ndim() == 2 ? scores : reshape(scores, Shape{-1, classes}),
          make_view(target_flat, rows_shape, contiguous_strides(rows_shape), target_flat.offset())};
}

// Per-row losses reduced as asked; mean is over the non-ignored targets, and
// all ignored gives 0 (every row's loss is 0).
Tensor reduce_rows(const Tensor& loss, const Tensor& target, const Tensor& target_rows, const CrossEntropyOptions& options) {
  switch (options.reduction) {
    case Reduction::none: return target.ndim() == 1 ? loss : reshape(loss, target.shape());
    case Reduction::sum: return sum(loss);
    case Reduction::mean: break;
  }
  const double count = count_valid(target_rows, options.ignore_index);
  return sum(loss) * (1.0 / std::max(count, 1.0));
}

}  // namespace

// log_softmax_nll (one node, above), then the reduction. The gradient is
//   dlogits = (softmax - (1-ε)·onehot(t) - ε/C) · dloss.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options) {
  const ProfileScope profile("cross_entropy");
  const ClassRows rows = class_rows("cross_entropy", "logits", logits, target, options);
  Tensor loss;
  try {
    loss = log_softmax_nll(rows.scores, rows.target, options.ignore_index, options.label_smoothing);
  } catch (const Error& e) {  // e.g. a target out of range; say which call it was
    fail("cross_entropy: logits {}, target {}: {}", logits.shape().str(), target.shape().str(), e.what());
  }
  return reduce_rows(loss, target, rows.target, options);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, CrossEntropyOptions options) {
  const ProfileScope profile("nll_loss");
  if (options.label_smoothing != 0)
    fail("nll_loss: label_smoothing is cross_entropy's option; got {}", options.label_smoothing);
  const ClassRows rows = class_rows("nll_loss", "log_probs", log_probs, target, options);
  Tensor loss;
  try {
    loss = nll_rows(rows.scores, rows.target, options.ignore_index);
  } catch (const Error& e) {
    fail("nll_loss: log_probs {}, target {}: {}", log_probs.shape().str(), target.shape().str(), e.what());
  }
  return reduce_rows(loss, target, rows.target, options);
}

}  // namespace tg
