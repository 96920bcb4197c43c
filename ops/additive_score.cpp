#include "ops/additive_score.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "kernels/additive_score/additive_score.h"

namespace tg {

namespace {
// The kernels read the last axis with unit stride.
Tensor unit_last_axis(const Tensor& t) {
  return t.size(-1) == 1 || t.strides()[t.ndim() - 1] == 1 ? t : contiguous_values(t);
}

void check_operands(const Tensor& keys, const Tensor& query, const Tensor& v) {
  check_defined(keys, "additive_score", "keys");
  check_defined(query, "additive_score", "query");
  check_defined(v, "additive_score", "v");
  check_same_kind(query, keys, "additive_score");
  check_same_kind(v, keys, "additive_score");
  check_floating(keys, "additive_score");
  if (keys.ndim() != 3) fail("additive_score: keys must be (B, S, A), got {}", keys.shape().str());
  const int64_t batch = keys.size(0), attention = keys.size(2);
  if (!(query.shape() == Shape{batch, attention}))
    fail("additive_score: query must be (B, A) = ({}, {}) for keys {}, got {}", batch, attention,
         keys.shape().str(), query.shape().str());
  if (!(v.shape() == Shape{attention}))
    fail("additive_score: v must be (A,) = ({},) for keys {}, got {}", attention, keys.shape().str(),
         v.shape().str());
}
}  // namespace

// Forward: score_bs = Σ_a v_a t_bsa with t = tanh(keys + query) never stored.
// Backward (g = dL/dscore), t recomputed:
//   dkeys_bsa  += g_bs v_a (1 - t_bsa²)
//   dquery_ba  += Σ_s g_bs v_a (1 - t_bsa²)
//   dv_a       += Σ_bs g_bs t_bsa
Tensor additive_score(const Tensor& keys_in, const Tensor& query_in, const Tensor& v_in) {
  const ProfileScope profile("additive_score");
  check_operands(keys_in, query_in, v_in);
  const Tensor keys = unit_last_axis(keys_in), query = unit_last_axis(query_in), v = unit_last_axis(v_in);
  Tensor score = compute::empty_like(keys, Shape{keys.size(0), keys.size(1)});
  kernels::additive_score(backend_for(keys.device()), {keys.view(), query.view(), v.view(), score.view()});
  // Every derivative reads all three (t is recomputed from keys and query).
  const bool needed = keys_in.requires_grad() || query_in.requires_grad() || v_in.requires_grad();
  const Saved keys_saved = save_if(needed, "keys", keys), query_saved = save_if(needed, "query", query),
              v_saved = save_if(needed, "v", v);
  record("additive_score", {&keys_in, &query_in, &v_in}, score, {keys_saved, query_saved, v_saved},
         [dkeys_slot = slot_of(keys_in), dquery_slot = slot_of(query_in), dv_slot = slot_of(v_in), keys_saved,
          query_saved, v_saved](const Tensor& dscore_in) {
           const Tensor &keys = keys_saved.get(), &query = query_saved.get(), &v = v_saved.get();
           const Tensor dscore = unit_last_axis(dscore_in);
           // The gradient buffers themselves: every step adds into the keys' one.
           auto buffer = [](const std::shared_ptr<GradSlot>& x) { return x ? grad_buffer(*x) : Tensor(); };
           const Tensor dkeys = buffer(dkeys_slot), dquery = buffer(dquery_slot), dv = buffer(dv_slot);
           auto wanted = [](const Tensor& d) {  // written in place: saved values see it
             if (!d.defined()) return View{};
             compute::mark_written(d);
             return d.view();
           };
           kernels::additive_score_backward(backend_for(keys.device()),
                                            {keys.view(), query.view(), v.view(), dscore.view(), wanted(dkeys),
                                             wanted(dquery), wanted(dv)});
         });
  return score;
}

}  // namespace tg
