#include "ops/scaled_dot_product_attention.h"

#include <cmath>
#include <limits>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "kernels/dot_attention/dot_attention.h"
#include "core/services/profiler.h"
#include "ops/add.h"
#include "ops/broadcast_to.h"
#include "ops/reshape.h"
#include "ops/logical.h"
#include "ops/masked_fill.h"
#include "ops/matmul.h"
#include "ops/mul.h"
#include "ops/softmax.h"
#include "ops/transpose.h"
#include "ops/triangle.h"

namespace tg {

namespace {
thread_local AttentionPath current_path = AttentionPath::automatic;
}  // namespace

AttentionPathScope::AttentionPathScope(AttentionPath path) : previous_(current_path) { current_path = path; }
AttentionPathScope::~AttentionPathScope() { current_path = previous_; }

namespace detail {

bool fused_attention_pays(int64_t L, int64_t S, int64_t E, int64_t Ev) {
  if (current_path != AttentionPath::automatic) return current_path == AttentionPath::fused;
  return L * S > L * E + S * E + S * Ev + L * Ev;  // the weights outweigh the copies the fused node keeps
}

Tensor fused_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const FusedAttention& o) {
  const ProfileScope profile("dot_attention");
  // The kernel reads unit-strided last axes; contiguous() copies only what is not.
  const Tensor q = contiguous_values(q_in), k = contiguous_values(k_in), v = contiguous_values(v_in);
  const Tensor bias = o.bias.defined() ? contiguous_values(o.bias.detach()) : Tensor();
  const Tensor key_bias = o.key_bias.defined() ? contiguous_values(o.key_bias.detach()) : Tensor();
  const int64_t B = q.size(0), L = q.size(1);
  Tensor out = compute::empty_like(q, Shape{B, L, v.size(2)});
  const Tensor lse = compute::empty_like(q, Shape{B, L});
  auto args = [bias, key_bias, o](const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                  const Tensor& lse) {
    return kernels::DotAttentionArgs{q.view(),  k.view(),   v.view(),       bias.defined() ? bias.view() : View{},
                                     key_bias.defined() ? key_bias.view() : View{}, out.view(), lse.view(),
                                     o.scale,   o.causal,   o.heads,        o.dropout,
                                     o.key};
  };
  kernels::dot_attention(backend_for(q.device()), args(q, k, v, out, lse));
  const bool needed = q_in.requires_grad() || k_in.requires_grad() || v_in.requires_grad();
  const Saved q_saved = save_if(needed, "q", q), k_saved = save_if(needed, "k", k), v_saved = save_if(needed, "v", v),
              out_saved = save_if(needed, "output", out), lse_saved = save_if(needed, "lse", lse);
  record("dot_attention", {&q_in, &k_in, &v_in}, out, {q_saved, k_saved, v_saved, out_saved, lse_saved},
         [dq_slot = slot_of(q_in), dk_slot = slot_of(k_in), dv_slot = slot_of(v_in), q_saved, k_saved, v_saved,
          out_saved, lse_saved, args](const Tensor& dout_in) {
           const Tensor &q = q_saved.get(), &k = k_saved.get(), &v = v_saved.get();
           const Tensor dout = contiguous_values(dout_in);
           // dq is written whole; dk and dv accumulate: fresh zeros, added to the gradients after.
           const Tensor dq = dq_slot ? compute::empty_like(q, q.shape()) : Tensor();
           const Tensor dk = dk_slot ? compute::zeros_like(k) : Tensor();
           const Tensor dv = dv_slot ? compute::zeros_like(v) : Tensor();
           auto view_of = [](const Tensor& t) { return t.defined() ? t.view() : View{}; };
           kernels::dot_attention_backward(backend_for(q.device()),
                                           {args(q, k, v, out_saved.get(), lse_saved.get()), dout.view(), view_of(dq),
                                            view_of(dk), view_of(dv)});
           if (dq_slot) compute::add_into(grad_buffer(*dq_slot), dq);
           if (dk_slot) compute::add_into(grad_buffer(*dk_slot), dk);
           if (dv_slot) compute::add_into(grad_buffer(*dv_slot), dv);
         });
  return out;
}

}  // namespace detail

namespace {

// The fused kernel runs on host backends, for q, k, v of one float dtype with
// the same leading dims and a mask (if any) of that dtype or bool that
// broadcasts to (..., L, S).
bool fusable(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  if (!q.device().is_host() || !k.device().is_host() || !v.device().is_host()) return false;
  if (q.numel() == 0 || k.numel() == 0 || v.numel() == 0) return false;
  if (!detail::fused_attention_pays(q.size(-2), k.size(-2), q.size(-1), v.size(-1))) return false;
  if (q.dtype() != k.dtype() || q.dtype() != v.dtype() || (q.dtype() != DType::f32 && q.dtype() != DType::f64))
    return false;
  if (q.ndim() != k.ndim() || q.ndim() != v.ndim()) return false;
  for (int i = 0; i + 2 < q.ndim(); ++i)
    if (q.size(i) != k.size(i) || q.size(i) != v.size(i)) return false;
  if (!mask.defined()) return true;
  if (mask.dtype() != DType::boolean && mask.dtype() != q.dtype()) return false;
  if (mask.ndim() > q.ndim()) return false;
  Shape want = q.shape();
  want[want.size() - 1] = k.size(-2);
  for (int i = 1; i <= mask.ndim(); ++i)
    if (mask.size(-i) != 1 && mask.size(-i) != want[want.size() - i]) return false;
  return true;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    bool is_causal, double scale) {
  const ProfileScope profile("scaled_dot_product_attention");
  const char* op = "scaled_dot_product_attention";
  check_defined(q, op, "q");
  check_defined(k, op, "k");
  check_defined(v, op, "v");
  if (q.ndim() < 2 || k.ndim() < 2 || v.ndim() < 2)
    fail("{}: q, k and v must be (..., L, E), (..., S, E), (..., S, Ev), got {}, {}, {}", op, q.shape().str(),
         k.shape().str(), v.shape().str());
  if (q.size(-1) != k.size(-1))
    fail("{}: q {} and k {} must share their last size E", op, q.shape().str(), k.shape().str());
  if (k.size(-2) != v.size(-2))
    fail("{}: k {} and v {} must share the source length S", op, k.shape().str(), v.shape().str());
  if (is_causal && attn_mask.defined()) fail("{}: give attn_mask or is_causal, not both", op);
  const double s = scale != 0 ? scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  if (fusable(q, k, v, attn_mask)) {
    const int64_t L = q.size(-2), S = k.size(-2);
    const int64_t B = q.numel() / (L * q.size(-1));  // the leading dims, flattened
    detail::FusedAttention options{.causal = is_causal, .scale = s};
    if (attn_mask.defined()) {
      // bool true = takes part -> 0, else −∞; a float mask is added as it is.
      const Tensor bias = attn_mask.dtype() == DType::boolean
                              ? masked_fill(zeros(attn_mask.shape(), {q.dtype(), q.device()}), logical_not(attn_mask),
                                            -std::numeric_limits<double>::infinity())
                              : attn_mask;
      const bool shared = attn_mask.ndim() <= 2;  // the same (L, S) for every batch row
      Shape full = shared ? Shape{L, S} : q.shape();
      full[full.size() - 1] = S;
      options.bias = reshape(contiguous_values(broadcast_to(bias, full)), Shape{shared ? 1 : B, L, S});
    }
    auto rows = [&](const Tensor& t) { return reshape(t, Shape{B, t.size(-2), t.size(-1)}); };
    Shape out_shape = q.shape();
    out_shape[out_shape.size() - 1] = v.size(-1);
    return reshape(detail::fused_attention(rows(q), rows(k), rows(v), options), out_shape);
  }
  Tensor scores = mul(matmul(q, transpose(k, -2, -1)), s);  // (..., L, S)
  const double minus_inf = -std::numeric_limits<double>::infinity();
  if (is_causal) {
    const Tensor above = triu(ones({q.size(-2), k.size(-2)}, {DType::f64, q.device()}), 1).to(DType::boolean);
    scores = masked_fill(scores, above, minus_inf);
  } else if (attn_mask.defined()) {
    scores = attn_mask.dtype() == DType::boolean ? masked_fill(scores, logical_not(attn_mask), minus_inf)
                                                 : add(scores, attn_mask);
  }
  return matmul(softmax(scores, -1), v);
}

}  // namespace tg
