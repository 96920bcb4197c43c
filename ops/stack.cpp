#include "ops/stack.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/select.h"

namespace tg {

// y[..., i, ...] = x_i;  dx_i += dy[..., i, ...]
Tensor stack(const std::vector<Tensor>& inputs, int axis) {
  const ProfileScope profile("stack");
  if (inputs.empty()) fail("stack: needs at least one tensor, got none");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined()) fail("stack: input {} is an undefined tensor", i);
  const Tensor& first = inputs[0];
  const int a = normalize_axis(axis, first.ndim() + 1, "stack");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    check_same_kind(first, x, "stack");
    if (x.ndim() != first.ndim())
      fail("stack: input {} has shape {} (rank {}) but input 0 has shape {} (rank {}); all must match", i,
           x.shape().str(), x.ndim(), first.shape().str(), first.ndim());
    for (int d = 0; d < x.ndim(); ++d)
      if (x.shape()[d] != first.shape()[d])
        fail("stack: input {} has shape {} but input 0 has shape {}: dimension {} differs ({} vs {})", i,
             x.shape().str(), first.shape().str(), d, x.shape()[d], first.shape()[d]);
  }

  Shape shape = first.shape();
  shape.insert(a, static_cast<int64_t>(inputs.size()));
  Tensor y = compute::empty_like(first, shape);
  std::vector<std::pair<std::shared_ptr<GradSlot>, int64_t>> needs_grad;  // (input's slot, its index along axis)
  for (size_t i = 0; i < inputs.size(); ++i) {
    compute::copy_into(inputs[i], detail::select_view(y, a, static_cast<int64_t>(i)));
    if (inputs[i].requires_grad()) needs_grad.emplace_back(slot_of(inputs[i]), static_cast<int64_t>(i));
  }
  record("stack", inputs, y, [needs_grad = std::move(needs_grad), a](const Tensor& dy) {  // saves nothing
    for (const auto& [dx, i] : needs_grad) accumulate_grad(*dx, detail::select_view(dy, a, i));
  });
  return y;
}

}  // namespace tg
