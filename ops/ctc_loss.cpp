#include "ops/ctc_loss.h"

#include <cmath>
#include <numeric>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "core/autograd/tape.h"
#include "kernels/ctc_loss/ctc_loss.h"
#include "ops/mean.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/sum.h"

namespace tg {

namespace {

std::vector<int64_t> host_lengths(const Tensor& lengths, const char* what, int64_t batch) {
  check_defined(lengths, "ctc_loss", what);
  if (lengths.dtype() != DType::i64 || lengths.ndim() != 1 || lengths.size(0) != batch)
    fail("ctc_loss: {} must be int64 ({}), one per sequence, got {} {}", what, batch, dtype_name(lengths.dtype()),
         lengths.shape().str());
  return lengths.to_vector<int64_t>();
}

// The targets as a padded (B, S) host tensor, every label checked.
Tensor padded_targets(const Tensor& targets, const std::vector<int64_t>& target_lengths, int64_t classes,
                      int64_t blank) {
  check_defined(targets, "ctc_loss", "targets");
  if (targets.dtype() != DType::i64)
    fail("ctc_loss: targets must hold int64 labels, got {}", dtype_name(targets.dtype()));
  const int64_t B = static_cast<int64_t>(target_lengths.size());
  const std::vector<int64_t> flat = targets.to_vector<int64_t>();
  int64_t longest = 0;
  for (const int64_t n : target_lengths) longest = std::max(longest, n);
  std::vector<int64_t> padded(static_cast<size_t>(B * longest), blank);
  if (targets.ndim() == 2) {
    if (targets.size(0) != B)
      fail("ctc_loss: padded targets {} must have one row per sequence ({})", targets.shape().str(), B);
    if (longest > targets.size(1))
      fail("ctc_loss: a target length of {} is longer than the padded targets' {} columns ({})", longest,
           targets.size(1), targets.shape().str());
  } else if (targets.ndim() == 1) {
    const int64_t total = std::accumulate(target_lengths.begin(), target_lengths.end(), int64_t{0});
    if (total != targets.size(0))
      fail("ctc_loss: concatenated targets hold {} labels, the target lengths sum to {}", targets.size(0), total);
  } else {
    fail("ctc_loss: targets must be (B, S) padded or (Σ S_b) concatenated, got {}", targets.shape().str());
  }
  int64_t offset = 0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < target_lengths[b]; ++i) {
      const int64_t label = targets.ndim() == 2 ? flat[b * targets.size(1) + i] : flat[offset + i];
      if (label < 0 || label >= classes || label == blank)
        fail("ctc_loss: target {} of sequence {} is {}; labels must be in [0, {}) and not the blank {}", i, b, label,
             classes, blank);
      padded[b * longest + i] = label;
    }
    offset += target_lengths[b];
  }
  return from_vector(padded, Shape{B, longest}, {DType::i64});
}

}  // namespace

Tensor ctc_loss(const Tensor& log_probs_in, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, int64_t blank, Reduction reduction, bool zero_infinity) {
  const ProfileScope profile("ctc_loss");
  check_defined(log_probs_in, "ctc_loss", "log_probs");
  check_floating(log_probs_in, "ctc_loss");
  if (log_probs_in.ndim() != 2 && log_probs_in.ndim() != 3)
    fail("ctc_loss: log_probs must be (T, B, C), or (T, C) for one sequence, got {}", log_probs_in.shape().str());
  const bool batched = log_probs_in.ndim() == 3;
  const Tensor log_probs = batched ? log_probs_in : unsqueeze(log_probs_in, 1);  // (T, B, C)
  const int64_t T = log_probs.size(0), B = log_probs.size(1), C = log_probs.size(2);
  if (blank < 0 || blank >= C) fail("ctc_loss: blank {} is not a class of the {} in log_probs", blank, C);
  const Tensor input_rows = input_lengths.ndim() == 0 ? reshape(input_lengths, Shape{1}) : input_lengths;
  const Tensor target_rows = target_lengths.ndim() == 0 ? reshape(target_lengths, Shape{1}) : target_lengths;
  const std::vector<int64_t> steps = host_lengths(input_rows, "input_lengths", B);
  const std::vector<int64_t> counts = host_lengths(target_rows, "target_lengths", B);
  for (int64_t b = 0; b < B; ++b) {
    if (steps[b] < 1 || steps[b] > T)
      fail("ctc_loss: input_lengths[{}] is {}; it must be in [1, {}] (log_probs {})", b, steps[b], T,
           log_probs_in.shape().str());
    if (counts[b] < 0) fail("ctc_loss: target_lengths[{}] is {}; it must be >= 0", b, counts[b]);
  }
  const Tensor labels = padded_targets(batched || targets.ndim() != 1 ? targets : reshape(targets, Shape{1, -1}),
                                       counts, C, blank);

  // The kernel runs where log_probs lives; the labels and lengths go there too.
  const Device device = log_probs.device();
  const Tensor lp = contiguous_values(log_probs.detach());
  const TensorOptions options{log_probs.dtype(), device};
  Tensor loss = Tensor::empty(Shape{B}, options);
  const Tensor grad = log_probs.requires_grad() ? Tensor::empty(log_probs.shape(), options) : Tensor();
  const Tensor labels_there = labels.to(device), steps_there = index_tensor(steps, Shape{B}).to(device),
               counts_there = index_tensor(counts, Shape{B}).to(device);
  kernels::ctc_loss(backend_for(device), {lp.view(), labels_there.view(), steps_there.view(), counts_there.view(),
                                          blank, loss.view(), grad.defined() ? grad.view() : View{}});
  if (zero_infinity) {
    const Tensor infinite = compute::binary(BinaryOp::eq, loss, full(Shape{B}, INFINITY, options));
    loss = compute::where(infinite, full(Shape{B}, 0.0, options), loss);
  }
  const Saved grad_saved = save_if(log_probs.requires_grad(), "grad", grad);
  record("ctc_loss", {&log_probs}, loss, {grad_saved}, [dlp = slot_of(log_probs), grad_saved](const Tensor& dloss) {
    const Tensor& grad = grad_saved.get();  // (T, B, C)
    const Tensor d = contiguous_values(dloss);
    const Tensor per_sequence = make_view(d, grad.shape(), Strides{0, d.strides()[0], 0}, d.offset());
    accumulate_grad(*dlp, compute::binary(BinaryOp::mul, grad, per_sequence));
  });

  switch (reduction) {
    case Reduction::none: return batched ? loss : reshape(loss, Shape{});
    case Reduction::sum: return sum(loss);
    case Reduction::mean: break;
  }
  std::vector<double> per_label(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) per_label[b] = 1.0 / static_cast<double>(std::max<int64_t>(counts[b], 1));
  return mean(mul(loss, from_vector(per_label, Shape{B}, {log_probs.dtype(), device})));
}

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const std::vector<int64_t>& input_lengths,
                const std::vector<int64_t>& target_lengths, int64_t blank, Reduction reduction, bool zero_infinity) {
  return ctc_loss(log_probs, targets, index_tensor(input_lengths, Shape{static_cast<int64_t>(input_lengths.size())}),
                  index_tensor(target_lengths, Shape{static_cast<int64_t>(target_lengths.size())}), blank, reduction,
                  zero_infinity);
}

}  // namespace tg
