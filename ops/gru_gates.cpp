#include "ops/gru_gates.h"

#include <utility>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "kernels/gru_gates/gru_gates.h"
#include "ops/slice.h"

namespace tg {

namespace {
// The kernels read rows through their stride but need unit column stride.
Tensor unit_columns(const Tensor& t) { return t.strides()[1] == 1 || t.size(1) == 1 ? t : contiguous_values(t); }
}  // namespace

// Forward: the kernel also writes [r | z | n] (B, 3H) for backward.
// Backward (dy = dL/dh'):
//   dh  += dy ⊙ z
//   a_n  = dy ⊙ (1 - z) ⊙ (1 - n²)        dgi_n += a_n      dgh_n += a_n ⊙ r
//   a_z  = dy ⊙ (h - n) ⊙ z(1 - z)         dgi_z += a_z      dgh_z += a_z
//   a_r  = a_n ⊙ gh_n ⊙ r(1 - r)            dgi_r += a_r      dgh_r += a_r
// It reads r, z, n, h and gh_n, the last third of gh. The node saves h and one
// (B, 4H) buffer [r | z | n | gh_n]: the kernel writes its first 3H columns
// through a view with row stride 4H, gh_n is copied behind them, and the
// backward kernel is handed that buffer twice, as the gates (columns 0..3H)
// and as "gh" (columns H..4H, whose n block is gh_n). So gh (B, 3H) is freed
// after the step instead of being kept whole for a third of it.
Tensor gru_gates(const Tensor& gi_in, const Tensor& gh_in, const Tensor& h_in) {
  const ProfileScope profile("gru_gates");
  check_defined(gi_in, "gru_gates", "gi");
  check_defined(gh_in, "gru_gates", "gh");
  check_defined(h_in, "gru_gates", "h");
  check_same_kind(gi_in, h_in, "gru_gates");
  check_same_kind(gh_in, h_in, "gru_gates");
  check_floating(h_in, "gru_gates");
  if (h_in.ndim() != 2) fail("gru_gates: h must be (B, H), got {}", h_in.shape().str());
  const int64_t batch = h_in.size(0), hidden = h_in.size(1);
  const Shape gates{batch, 3 * hidden};
  if (gi_in.shape() != gates || gh_in.shape() != gates)
    fail("gru_gates: gi {} and gh {} must be (B, 3H) = {} for h {}", gi_in.shape().str(), gh_in.shape().str(),
         gates.str(), h_in.shape().str());
  const Tensor gi = unit_columns(gi_in), gh = unit_columns(gh_in), h = unit_columns(h_in);

  Tensor out = compute::empty_like(h, h.shape());
  const Tensor buffer = compute::empty_like(h, Shape{batch, 4 * hidden});  // [r | z | n | gh_n]
  const Strides row_of_four{4 * hidden, 1};
  const Tensor rzn = make_view(buffer, gates, row_of_four, buffer.offset());
  kernels::gru_gates(backend_for(h.device()), {gi.view(), gh.view(), h.view(), out.view(), rzn.view()});
  const bool needed = gi_in.requires_grad() || gh_in.requires_grad() || h_in.requires_grad();
  if (!needed || !grad_enabled()) return out;
  compute::copy_into(detail::slice_view(gh, 1, 2 * hidden, hidden, 1), detail::slice_view(buffer, 1, 3 * hidden, hidden, 1));
  const Saved gates_saved = save_if(needed, "gates", rzn), h_saved = save_if(needed, "h", h);
  record("gru_gates", {&gi_in, &gh_in, &h_in}, out, {gates_saved, h_saved},
         [dgi_slot = slot_of(gi_in), dgh_slot = slot_of(gh_in), dh_slot = slot_of(h_in), gates_saved, h_saved,
          row_of_four](const Tensor& dy_in) {
           const Tensor &gates = gates_saved.get(), &h = h_saved.get();
           const int64_t hidden = h.size(1);
           const Tensor gh_n_at_n = make_view(gates, gates.shape(), row_of_four, gates.offset() + hidden);
           const Tensor dy = unit_columns(dy_in);
           Tensor dgi = compute::empty_like(gates, gates.shape());
           Tensor dgh = compute::empty_like(gates, gates.shape());
           Tensor dh = compute::empty_like(h, h.shape());
           kernels::gru_gates_backward(backend_for(h.device()), {gates.view(), gh_n_at_n.view(), h.view(), dy.view(),
                                                                 dgi.view(), dgh.view(), dh.view()});
           // Moved, so that an empty slot adopts each instead of copying it.
           if (dgi_slot) accumulate_grad(*dgi_slot, std::move(dgi));
           if (dgh_slot) accumulate_grad(*dgh_slot, std::move(dgh));
           if (dh_slot) accumulate_grad(*dh_slot, std::move(dh));
         });
  return out;
}

}  // namespace tg
