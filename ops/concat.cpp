#include "ops/concat.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/tensor/compute.h"
#include "ops/slice.h"

namespace tg {

// y = [x_0 | x_1 | ...] along axis;  dx_i += dy[..., offset_i : offset_i + n_i, ...]
Tensor concat(const std::vector<Tensor>& inputs, int axis) {
  const ProfileScope profile("concat");
  if (inputs.empty()) fail("concat: needs at least one tensor, got none");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined()) fail("concat: input {} is an undefined tensor", i);
  const Tensor& first = inputs[0];
  if (first.ndim() == 0) fail("concat: cannot join scalars (shape ()); use stack");
  const int a = normalize_axis(axis, first.ndim(), "concat");
  int64_t total = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    check_same_kind(first, x, "concat");
    if (x.ndim() != first.ndim())
      fail("concat: input {} has shape {} (rank {}) but input 0 has shape {} (rank {})", i, x.shape().str(),
           x.ndim(), first.shape().str(), first.ndim());
    for (int d = 0; d < x.ndim(); ++d)
      if (d != a && x.shape()[d] != first.shape()[d])
        fail("concat: input {} has shape {} but input 0 has shape {}: dimension {} differs ({} vs {}); "
             "only dimension {}, the joining axis, may differ",
             i, x.shape().str(), first.shape().str(), d, x.shape()[d], first.shape()[d], a);
    total += x.shape()[a];
  }

  Shape shape = first.shape();
  shape[a] = total;
  Tensor y = compute::empty_like(first, shape);
  // Each input's place in y, kept only for the inputs that need a gradient.
  struct Part {
    std::shared_ptr<GradSlot> dx;
    int64_t start, length;
  };
  std::vector<Part> parts;
  int64_t start = 0;
  for (const Tensor& x : inputs) {
    const int64_t length = x.shape()[a];
    compute::copy_into(x, detail::slice_view(y, a, start, length, 1));
    if (x.requires_grad()) parts.push_back({slot_of(x), start, length});
    start += length;
  }
  record("concat", inputs, y, [parts = std::move(parts), a](const Tensor& dy) {  // saves nothing
    for (const Part& p : parts) accumulate_grad(*p.dx, detail::slice_view(dy, a, p.start, p.length, 1));
  });
  return y;
}

}  // namespace tg
