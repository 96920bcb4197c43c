#include "ops/scaled_dot_product_attention.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/profiler.h"
#include "ops/add.h"
#include "ops/logical.h"
#include "ops/masked_fill.h"
#include "ops/matmul.h"
#include "ops/mul.h"
#include "ops/softmax.h"
#include "ops/transpose.h"
#include "ops/triangle.h"
#include "core/creation.h"

namespace tg {

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
