#include "nn/multihead_attention.h"

#include <cmath>
#include <limits>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "nn/init.h"
#include "ops/add.h"
#include "ops/dropout.h"
#include "ops/linear.h"
#include "ops/masked_fill.h"
#include "ops/matmul.h"
#include "ops/mean.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/scaled_dot_product_attention.h"
#include "ops/slice.h"
#include "ops/softmax.h"
#include "ops/transpose.h"
#include "ops/triangle.h"

namespace tg::nn {

namespace {

// x (T, N, in) @ wᵀ + b -> (T, N, out), one node with a bias
Tensor project(const Tensor& x, const Tensor& w, const Tensor& b) {
  return linear(x, w, b);
}

// The masks' shapes: attn_mask (L, S) or (N·H, L, S), key_padding_mask bool (N, S) ((S) unbatched).
void check_masks(const AttentionMasks& masks, const Shape& scores, int64_t batch_heads, const Shape& padding,
                 const char* op) {
  if (masks.is_causal && masks.attn_mask.defined()) fail("{}: give attn_mask or is_causal, not both", op);
  if (const Tensor& mask = masks.attn_mask; mask.defined()) {
    const Shape per_head{batch_heads, scores[0], scores[1]};
    if (mask.ndim() == 3 && mask.shape() != per_head)
      fail("{}: a 3-D attn_mask must be (N·H, L, S) = {}, got {}", op, per_head.str(), mask.shape().str());
    if (mask.ndim() != 3 && mask.shape() != scores)
      fail("{}: attn_mask must be (L, S) = {} or (N·H, L, S), got {}", op, scores.str(), mask.shape().str());
  }
  const Tensor& pad = masks.key_padding_mask;
  if (pad.defined() && (pad.dtype() != DType::boolean || pad.shape() != padding))
    fail("{}: key_padding_mask must be bool {} (true = ignore that key), got {} {}", op, padding.str(),
         dtype_name(pad.dtype()), pad.shape().str());
}

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options,
                                       Generator& gen)
    : out_proj(embed_dim > 0 ? embed_dim : 1, embed_dim > 0 ? embed_dim : 1, {.bias = options.bias, .dtype = options.dtype}, gen),
      embed_dim_(embed_dim),
      num_heads_(num_heads),
      kdim_(options.kdim > 0 ? options.kdim : embed_dim),
      vdim_(options.vdim > 0 ? options.vdim : embed_dim),
      options_(options) {
  check_parameter_dtype(options.dtype, "MultiheadAttention");
  if (embed_dim <= 0 || num_heads <= 0)
    fail("MultiheadAttention: embed_dim and num_heads must be positive, got {} and {}", embed_dim, num_heads);
  if (embed_dim % num_heads != 0)
    fail("MultiheadAttention: embed_dim {} must be divisible by num_heads {}", embed_dim, num_heads);
  if (!(options.dropout >= 0 && options.dropout < 1))
    fail("MultiheadAttention: dropout must be in [0, 1), got {}", options.dropout);
  const TensorOptions weights{options.dtype};
  if (kdim_ == embed_dim && vdim_ == embed_dim) {
    in_proj_weight = Tensor::empty({3 * embed_dim, embed_dim}, weights);
    init::xavier_uniform_(in_proj_weight, 1.0, gen);
    register_parameter("in_proj_weight", in_proj_weight);
  } else {
    q_proj_weight = Tensor::empty({embed_dim, embed_dim}, weights);
    k_proj_weight = Tensor::empty({embed_dim, kdim_}, weights);
    v_proj_weight = Tensor::empty({embed_dim, vdim_}, weights);
    for (Tensor* w : {&q_proj_weight, &k_proj_weight, &v_proj_weight}) init::xavier_uniform_(*w, 1.0, gen);
    register_parameter("q_proj_weight", q_proj_weight);
    register_parameter("k_proj_weight", k_proj_weight);
    register_parameter("v_proj_weight", v_proj_weight);
  }
  if (options.bias) {
    in_proj_bias = zeros({3 * embed_dim}, weights);
    register_parameter("in_proj_bias", in_proj_bias);
    NoGrad no_grad;
    out_proj.bias.copy_(zeros(out_proj.bias.shape(), weights));  // PyTorch starts both biases at 0
  }
  register_module("out_proj", out_proj);
}

MultiheadAttentionOutput MultiheadAttention::forward(const Tensor& query_in, const Tensor& key_in,
                                                     const Tensor& value_in, const AttentionMasks& masks) const {
  const char* op = "MultiheadAttention";
  check_defined(query_in, op, "query");
  check_defined(key_in, op, "key");
  check_defined(value_in, op, "value");
  const bool batched = query_in.ndim() == 3;
  if (!batched && query_in.ndim() != 2)
    fail("{}: query must be (L, N, E), (N, L, E) with batch_first, or (L, E), got {}", op, query_in.shape().str());
  if (key_in.ndim() != query_in.ndim() || value_in.ndim() != query_in.ndim())
    fail("{}: query {}, key {} and value {} must all be batched (3-D) or all unbatched (2-D)", op,
         query_in.shape().str(), key_in.shape().str(), value_in.shape().str());
  // Time-major (T, N, ·) inside, as PyTorch.
  auto time_major = [&](const Tensor& t) {
    if (!batched) return unsqueeze(t, 1);
    return options_.batch_first ? transpose(t, 0, 1) : t;
  };
  const Tensor query = time_major(query_in), key = time_major(key_in), value = time_major(value_in);
  const int64_t L = query.size(0), N = query.size(1), S = key.size(0), E = embed_dim_, H = num_heads_;
  if (query.size(2) != E) fail("{}: query {} must end in embed_dim {}", op, query_in.shape().str(), E);
  if (key.size(2) != kdim_ || value.size(2) != vdim_)
    fail("{}: key {} must end in kdim {} and value {} in vdim {}", op, key_in.shape().str(), kdim_,
         value_in.shape().str(), vdim_);
  if (key.size(1) != N || value.size(1) != N || value.size(0) != S)
    fail("{}: key {} and value {} do not match query {} (batch N = {}, source length S = {})", op,
         key_in.shape().str(), value_in.shape().str(), query_in.shape().str(), N, S);

  const MultiheadAttentionOutput attended =
      attend(in_projection(query, 0), in_projection(key, 1), in_projection(value, 2), masks, batched);
  Tensor output = attended.output;  // (L, N, E)
  if (!batched) output = reshape(output, Shape{L, E});
  else if (options_.batch_first) output = transpose(output, 0, 1);
  MultiheadAttentionOutput result{output, Tensor()};
  if (masks.need_weights) {
    const Tensor& w = attended.weights;  // (N, L, S) or (N, H, L, S)
    result.weights = batched ? w : reshape(w, masks.average_attn_weights ? Shape{L, S} : Shape{H, L, S});
  }
  return result;
}

Tensor MultiheadAttention::in_projection(const Tensor& x, int part) const {
  if (part < 0 || part > 2) fail("MultiheadAttention::in_projection: part must be 0 (q), 1 (k) or 2 (v), got {}", part);
  const int64_t E = embed_dim_;
  const Tensor bias = in_proj_bias.defined() ? slice(in_proj_bias, 0, part * E, (part + 1) * E) : Tensor();
  if (in_proj_weight.defined()) return project(x, slice(in_proj_weight, 0, part * E, (part + 1) * E), bias);
  const Tensor& w = part == 0 ? q_proj_weight : part == 1 ? k_proj_weight : v_proj_weight;
  return project(x, w, bias);
}

MultiheadAttentionOutput MultiheadAttention::attend(const Tensor& q, const Tensor& k, const Tensor& v,
                                                    const AttentionMasks& masks, bool batched) const {
  const char* op = "MultiheadAttention";
  const int64_t L = q.size(0), N = q.size(1), S = k.size(0), E = embed_dim_, H = num_heads_, D = E / H;
  check_masks(masks, Shape{L, S}, N * H, batched ? Shape{N, S} : Shape{S}, op);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D)), minus_inf = -std::numeric_limits<double>::infinity();
  const bool training_dropout = options_.dropout > 0 && is_training();
  // (T, N, E) -> (N, H, T, D)
  auto heads = [&](const Tensor& t, int64_t T) { return permute(reshape(t, Shape{T, N, H, D}), {1, 2, 0, 3}); };
  // (N, H, L, D) -> (L, N, E), then out_proj
  auto joined = [&](const Tensor& t) { return out_proj(reshape(permute(t, {2, 0, 1, 3}), Shape{L, N, E})); };
  if (!masks.need_weights && q.device().is_host() && (q.dtype() == DType::f32 || q.dtype() == DType::f64) &&
      detail::fused_attention_pays(L, S, D, D)) {
    // The fused kernel: no (N, H, L, S) weights kept (ops/scaled_dot_product_attention.h).
    detail::FusedAttention fused{.causal = masks.is_causal, .heads = H, .scale = scale};
    auto additive = [&](const Tensor& mask) {  // bool true = not allowed -> −∞; float as it is
      return mask.dtype() == DType::boolean ? masked_fill(zeros(mask.shape(), {q.dtype(), q.device()}), mask, minus_inf)
                                            : mask.to(q.dtype());
    };
    if (masks.attn_mask.defined())
      fused.bias = reshape(additive(masks.attn_mask), Shape{masks.attn_mask.ndim() == 3 ? N * H : 1, L, S});
    if (masks.key_padding_mask.defined()) fused.key_bias = reshape(additive(masks.key_padding_mask), Shape{N, S});
    if (training_dropout) {
      fused.dropout = options_.dropout;
      fused.key = dropout_.advance().next_u64();  // the key ops/dropout.h would draw: the same masks
    }
    auto rows = [&](const Tensor& t, int64_t T) { return reshape(heads(t, T), Shape{N * H, T, D}); };
    const Tensor attended = detail::fused_attention(rows(q, L), rows(k, S), rows(v, S), fused);  // (N·H, L, D)
    return {joined(reshape(attended, Shape{N, H, L, D})), Tensor()};
  }
  Tensor scores = mul(matmul(heads(q, L), transpose(heads(k, S), 2, 3)), scale);  // (N, H, L, S)
  if (masks.is_causal) {
    const Tensor above = triu(ones({L, S}, {DType::f64, q.device()}), 1).to(DType::boolean);  // j > i
    scores = masked_fill(scores, above, minus_inf);
  }
  if (masks.attn_mask.defined()) {
    const Tensor mask = masks.attn_mask.ndim() == 3 ? reshape(masks.attn_mask, Shape{N, H, L, S}) : masks.attn_mask;
    scores = mask.dtype() == DType::boolean ? masked_fill(scores, mask, minus_inf) : add(scores, mask);
  }
  if (masks.key_padding_mask.defined())
    scores = masked_fill(scores, reshape(masks.key_padding_mask, Shape{N, 1, 1, S}), minus_inf);
  const Tensor weights = softmax(scores, -1);  // (N, H, L, S)
  const Tensor dropped = training_dropout ? dropout(weights, options_.dropout, true, dropout_.advance()) : weights;
  MultiheadAttentionOutput result{joined(matmul(dropped, heads(v, S))), Tensor()};
  if (masks.need_weights) result.weights = masks.average_attn_weights ? mean(weights, 1) : weights;
  return result;
}

}  // namespace tg::nn
