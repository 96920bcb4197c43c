#include "ops/gru_gates.h"

#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg {

namespace {
// The kernels read rows through their stride but need unit column stride.
Tensor unit_columns(const Tensor& t) { return t.strides()[1] == 1 || t.size(1) == 1 ? t : t.contiguous(); }
}  // namespace

// Forward: the kernel also keeps [r | z | n] (B, 3H) for backward.
// Backward (dy = dL/dh'):
//   dh  += dy ⊙ z
//   a_n  = dy ⊙ (1 - z) ⊙ (1 - n²)        dgi_n += a_n      dgh_n += a_n ⊙ r
//   a_z  = dy ⊙ (h - n) ⊙ z(1 - z)         dgi_z += a_z      dgh_z += a_z
//   a_r  = a_n ⊙ gh_n ⊙ r(1 - r)            dgi_r += a_r      dgh_r += a_r
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

  Tensor out = kernels::empty_like(h, h.shape());
  const Tensor saved = kernels::empty_like(h, gates);
  backend_for(h.device()).gru_gates(gi.view(), gh.view(), h.view(), out.view(), saved.view());
  // The backward kernel reads the gates, gh (for gh_n) and h, whichever input needs a gradient.
  const bool needed = gi_in.requires_grad() || gh_in.requires_grad() || h_in.requires_grad();
  const Saved gates_saved = save_if(needed, "gates", saved), gh_saved = save_if(needed, "gh", gh),
              h_saved = save_if(needed, "h", h);
  record("gru_gates", {&gi_in, &gh_in, &h_in}, out, {gates_saved, gh_saved, h_saved},
         [dgi_slot = slot_of(gi_in), dgh_slot = slot_of(gh_in), dh_slot = slot_of(h_in), gates_saved, gh_saved,
          h_saved](const Tensor& dy_in) {
           const Tensor &gates = gates_saved.get(), &gh = gh_saved.get(), &h = h_saved.get();
           const Tensor dy = unit_columns(dy_in);
           const Tensor dgi = kernels::empty_like(gates, gates.shape());
           const Tensor dgh = kernels::empty_like(gates, gates.shape());
           const Tensor dh = kernels::empty_like(h, h.shape());
           backend_for(h.device())
               .gru_gates_backward(gates.view(), gh.view(), h.view(), dy.view(), dgi.view(), dgh.view(), dh.view());
           if (dgi_slot) accumulate_grad(*dgi_slot, dgi);
           if (dgh_slot) accumulate_grad(*dgh_slot, dgh);
           if (dh_slot) accumulate_grad(*dh_slot, dh);
         });
  return out;
}

}  // namespace tg
