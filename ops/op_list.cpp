#include "ops/op_list.h"

#include <array>

namespace tg {

namespace {

constexpr uint8_t F = op_function, M = op_method, O = op_operator;
constexpr OpBody rec = OpBody::records, comp = OpBody::composes, kern = OpBody::kernel, view = OpBody::view,
                 none = OpBody::none;

// name, group, PyTorch, forms, body, how it differs
constexpr std::array kOps = std::to_array<OpEntry>({
    // ---- elementwise ----
    {"abs", "elementwise", "torch.abs", F | M, rec, ""},
    {"neg", "elementwise", "torch.neg", F | M | O, rec, ""},
    {"exp", "elementwise", "torch.exp", F | M, rec, ""},
    {"log", "elementwise", "torch.log", F | M, rec, ""},
    {"log1p", "elementwise", "torch.log1p", F, rec, ""},
    {"sqrt", "elementwise", "torch.sqrt", F | M, rec, ""},
    {"rsqrt", "elementwise", "torch.rsqrt", F, comp, ""},
    {"sin", "elementwise", "torch.sin", F, rec, ""},
    {"cos", "elementwise", "torch.cos", F, rec, ""},
    {"tanh", "elementwise", "torch.tanh", F | M, rec, ""},
    {"sigmoid", "elementwise", "torch.sigmoid", F | M, rec, ""},
    {"relu", "elementwise", "torch.relu", F | M, rec, ""},
    {"silu", "elementwise", "torch.nn.functional.silu", F, comp, ""},
    {"gelu", "elementwise", "torch.nn.functional.gelu", F, rec, "approximate is an enum (GeluApproximation::none / tanh)"},
    {"softplus", "elementwise", "torch.nn.functional.softplus", F, rec, ""},
    {"erf", "elementwise", "torch.erf", F, rec, ""},
    {"clamp_min", "elementwise", "torch.clamp_min", F | M, comp, ""},
    {"clamp_max", "elementwise", "torch.clamp_max", F | M, comp, ""},
    {"clamp", "elementwise", "torch.clamp", F | M, rec,
     "bounds are optional doubles (std::nullopt for none), not tensors"},
    {"pow", "elementwise", "torch.pow", F | M, comp, "the exponent is a scalar; a tensor exponent is not supported"},
    {"add", "elementwise", "torch.add", F | O, rec, "no alpha argument"},
    {"sub", "elementwise", "torch.sub", F | O, rec, "no alpha argument"},
    {"mul", "elementwise", "torch.mul", F | O, rec, ""},
    {"div", "elementwise", "torch.div", F | O, rec, "rounding_mode is an enum (RoundingMode::trunc / floor)"},
    {"floor_divide", "elementwise", "torch.floor_divide", F, none, ""},
    {"remainder", "elementwise", "torch.remainder", F | O, comp, ""},
    {"fmod", "elementwise", "torch.fmod", F, comp, ""},
    {"where", "elementwise", "torch.where", F, rec, ""},
    {"masked_fill", "elementwise", "torch.Tensor.masked_fill", F | M, rec, "the value is a double, not a tensor"},
    {"eq", "elementwise", "torch.eq", F, none, ""},
    {"ne", "elementwise", "torch.ne", F, none, ""},
    {"lt", "elementwise", "torch.lt", F | O, none, ""},
    {"le", "elementwise", "torch.le", F | O, none, ""},
    {"gt", "elementwise", "torch.gt", F | O, none, ""},
    {"ge", "elementwise", "torch.ge", F | O, none, ""},
    {"logical_and", "elementwise", "torch.logical_and", F, none, ""},
    {"logical_or", "elementwise", "torch.logical_or", F, none, ""},
    {"logical_not", "elementwise", "torch.logical_not", F, none, ""},
    // ---- reductions and scans ----
    {"sum", "reduction", "torch.sum", F | M, rec, ""},
    {"mean", "reduction", "torch.mean", F | M, rec, ""},
    {"prod", "reduction", "torch.prod", F, comp, ""},
    {"cumsum", "reduction", "torch.cumsum", F | M, comp, ""},
    {"cumprod", "reduction", "torch.cumprod", F, comp, ""},
    {"max", "reduction", "torch.max", F | M, rec,
     "max(x, axis) returns MaxResult{values, indices}; max(x, y) (elementwise) is not here"},
    {"min", "reduction", "torch.min", F | M, comp, "min(x, axis) returns MinResult{values, indices}"},
    {"argmax", "reduction", "torch.argmax", F | M, none, "the axis is required"},
    {"argmin", "reduction", "torch.argmin", F, none, "the axis is required"},
    {"var", "reduction", "torch.var", F | M, comp, "correction is an integer"},
    {"std", "reduction", "torch.std", F | M, comp, "correction is an integer"},
    {"logsumexp", "reduction", "torch.logsumexp", F, comp, ""},
    {"softmax", "reduction", "torch.softmax", F | M, rec, "the axis defaults to -1"},
    {"log_softmax", "reduction", "torch.log_softmax", F | M, rec, "the axis defaults to -1"},
    {"topk", "reduction", "torch.topk", F | M, kern, "returns TopK{values, indices}; sorted is always true"},
    {"sort", "reduction", "torch.sort", F | M, comp,
     "returns Sorted{values, indices}; always stable (PyTorch allows any order of ties unless stable=True)"},
    {"argsort", "reduction", "torch.argsort", F | M, none, "always stable"},
    {"unique", "reduction", "torch.unique", F, none,
     "returns Unique{values, inverse, counts}; always sorted; no dim argument; each NaN is its own value, last"},
    // ---- shapes and views ----
    {"reshape", "shape", "torch.reshape", F | M, view, "copies (recorded) when the input's strides need it, as PyTorch"},
    {"view", "shape", "torch.Tensor.view", M, view, "refuses a non-contiguous input (PyTorch accepts some strides)"},
    {"flatten", "shape", "torch.flatten", F | M, view, ""},
    {"unsqueeze", "shape", "torch.unsqueeze", F | M, view, ""},
    {"squeeze", "shape", "torch.squeeze", F | M, view, "the axis is required"},
    {"transpose", "shape", "torch.transpose", F | M, view, ""},
    {"permute", "shape", "torch.permute", F | M, view, ""},
    {"expand", "shape", "torch.Tensor.expand", F | M, view, ""},
    {"repeat", "shape", "torch.Tensor.repeat", F | M, comp, "at most 4 repeat counts (it works through 2·rank dimensions)"},
    {"broadcast_to", "shape", "torch.broadcast_to", F, view, ""},
    {"slice", "shape", "torch.Tensor.__getitem__ (x[:, a:b:s])", F, view, "one axis per call"},
    {"select", "shape", "torch.select", F | O, view, "x[i] is select(x, 0, i)"},
    {"split", "shape", "torch.split", F | M, view, ""},
    {"chunk", "shape", "torch.chunk", F | M, view, ""},
    {"concat", "shape", "torch.cat", F, rec, ""},
    {"cat", "shape", "torch.cat", F, rec, ""},
    {"stack", "shape", "torch.stack", F, rec, ""},
    {"flip", "shape", "torch.flip", F, comp, ""},
    {"triu", "shape", "torch.triu", F, comp, ""},
    {"tril", "shape", "torch.tril", F, comp, ""},
    {"repeat_interleave", "shape", "torch.repeat_interleave", F, comp, "the axis is required"},
    {"contiguous", "shape", "torch.Tensor.contiguous", M, rec, ""},
    {"clone", "shape", "torch.clone", M, rec, ""},
    {"to", "shape", "torch.Tensor.to", M, rec, "a cast to an integer or bool type ends the graph, as PyTorch's"},
    {"detach", "shape", "torch.Tensor.detach", M, none, ""},
    {"copy_", "shape", "torch.Tensor.copy_", M, none, "in place and never recorded (PyTorch records it)"},
    // ---- indexing ----
    {"index_select", "indexing", "torch.index_select", F | M, rec, ""},
    {"gather", "indexing", "torch.gather", F | M, comp, ""},
    {"scatter_add", "indexing", "torch.scatter_add", F, rec, ""},
    {"index_add", "indexing", "torch.index_add", F | M, comp, "float32 and float64 only; out of place"},
    {"nonzero", "indexing", "torch.nonzero", F, none, ""},
    {"one_hot", "indexing", "torch.nn.functional.one_hot", F, none, ""},
    {"embedding", "indexing", "torch.nn.functional.embedding", F, rec,
     "arguments are (table, index), PyTorch's are (input, weight); no max_norm"},
    {"sequence_mask", "indexing", "", F, none, ""},
    // ---- products and layers ----
    {"matmul", "product", "torch.matmul", F | M, rec, ""},
    {"dot", "product", "torch.dot", F, comp, ""},
    {"mv", "product", "torch.mv", F, comp, ""},
    {"linear", "product", "torch.nn.functional.linear", F, rec, ""},
    {"einsum", "product", "torch.einsum", F, comp,
     "one or two operands; no '...', no repeated letter in one operand, no broadcasting of a size-1 letter"},
    {"layer_norm", "layer", "torch.nn.functional.layer_norm", F, kern, ""},
    {"conv1d", "layer", "torch.nn.functional.conv1d", F, comp, ""},
    {"conv2d", "layer", "torch.nn.functional.conv2d", F, kern,
     "padding is numbers only (no 'same' / 'valid'), zeros only; host backends only"},
    {"max_pool2d", "layer", "torch.nn.functional.max_pool2d", F, kern,
     "no return_indices; a window wholly in the padding gives -inf and passes no gradient; host backends only"},
    {"avg_pool2d", "layer", "torch.nn.functional.avg_pool2d", F, kern, "no divisor_override; host backends only"},
    {"adaptive_avg_pool2d", "layer", "torch.nn.functional.adaptive_avg_pool2d", F, kern,
     "both output sizes are required (no None); host backends only"},
    {"batch_norm", "layer", "torch.nn.functional.batch_norm", F, kern,
     "momentum is a number (no None: cumulative average); host backends only"},
    {"dropout", "layer", "torch.nn.functional.dropout", F, kern,
     "training is required and masks come from tapegrad's generator (not PyTorch's numbers)"},
    {"scaled_dot_product_attention", "layer", "torch.nn.functional.scaled_dot_product_attention (PyTorch 2.0)", F, kern,
     ""},
    {"additive_score", "layer", "", F, kern, ""},
    {"gru_gates", "layer", "", F, kern, ""},
    {"recompute", "layer", "torch.utils.checkpoint.checkpoint", F, rec,
     "takes a function of a tensor list; random draws replay from a Generator copy"},
    // ---- losses ----
    {"mse_loss", "loss", "torch.nn.functional.mse_loss", F, rec, ""},
    {"l1_loss", "loss", "torch.nn.functional.l1_loss", F, rec, ""},
    {"smooth_l1_loss", "loss", "torch.nn.functional.smooth_l1_loss", F, rec, ""},
    {"binary_cross_entropy", "loss", "torch.nn.functional.binary_cross_entropy", F, rec, "no weight argument"},
    {"binary_cross_entropy_with_logits", "loss", "torch.nn.functional.binary_cross_entropy_with_logits", F, rec,
     "no weight or pos_weight argument"},
    {"cross_entropy", "loss", "torch.nn.functional.cross_entropy", F, kern,
     "classes are the last dimension (PyTorch: the second); no class weights; all targets ignored gives 0, not NaN"},
    {"nll_loss", "loss", "torch.nn.functional.nll_loss", F, kern, "classes last, no class weights, as cross_entropy"},
    {"ctc_loss", "loss", "torch.nn.functional.ctc_loss", F, kern,
     "the gradient with respect to log_probs is the true one, -γ; PyTorch's is exp(log_probs) - γ (the same after "
     "a log_softmax)"},
    // ---- creation ----
    {"zeros", "creation", "torch.zeros", F, none, ""},
    {"ones", "creation", "torch.ones", F, none, ""},
    {"full", "creation", "torch.full", F, none, "the dtype is the default float type, even for an integral value"},
    {"zeros_like", "creation", "torch.zeros_like", F, none, ""},
    {"ones_like", "creation", "torch.ones_like", F, none, ""},
    {"full_like", "creation", "torch.full_like", F, none, ""},
    {"empty_like", "creation", "torch.empty_like", F, none, ""},
    {"rand_like", "creation", "torch.rand_like", F, none, "draws from tapegrad's generator: not PyTorch's numbers"},
    {"randn_like", "creation", "torch.randn_like", F, none, "draws from tapegrad's generator: not PyTorch's numbers"},
    {"randint_like", "creation", "torch.randint_like", F, none, "draws from tapegrad's generator: not PyTorch's numbers"},
    {"eye", "creation", "torch.eye", F, none, ""},
    {"arange", "creation", "torch.arange", F, none, ""},
    {"randn", "creation", "torch.randn", F, none, "draws from tapegrad's generator: not PyTorch's numbers"},
    {"normal", "creation", "torch.normal", F, none, "draws from tapegrad's generator: not PyTorch's numbers"},
    {"uniform", "creation", "torch.Tensor.uniform_", F, none, "draws from tapegrad's generator: not PyTorch's numbers"},
    {"tensor", "creation", "torch.tensor", F, none,
     "a std::vector keeps its C++ type (double: float64), as torch.from_numpy; a list of literals follows torch.tensor"},
    {"from_vector", "creation", "torch.tensor", F, none, ""},
    {"index_tensor", "creation", "", F, none, ""},
    {"scalar", "creation", "torch.tensor (zero-dim)", F, none, ""},
    // ---- helpers: public, not ops a model calls ----
    {"result_type", "helper", "torch.result_type", F, none, ""},
    {"promote_types", "helper", "torch.promote_types", F, none, ""},
    {"promoted", "helper", "", F, none, ""},
    {"scalar_operand", "helper", "", F, none, ""},
    {"gather_rows", "helper", "", F, none, ""},
    {"scatter_add_rows", "helper", "", F, none, ""},
    {"move_axis", "helper", "torch.movedim (unrecorded)", F, none, ""},
    {"select_view", "helper", "", F, none, ""},
    {"slice_view", "helper", "", F, none, ""},
    {"fused_attention", "helper", "", F, kern, ""},
    {"fused_attention_pays", "helper", "", F, none, ""},
    {"ctc_greedy_emissions", "helper", "", F, none, ""},
    {"dequantize", "helper", "", F, none, ""},
    {"contiguous_values", "helper", "", F, none, ""},
    {"make_view", "helper", "torch.as_strided (unrecorded)", F, none, ""},
    {"permuted_view", "helper", "", F, none, ""},
    {"index_positions", "helper", "", F, none, ""},
    {"quantize_to_grid", "helper", "", F, none, ""},
    {"ctc_greedy_decode", "helper", "", F, none, ""},
    {"ctc_prefix_beam_decode", "helper", "", F, none, ""},
    {"check_defined", "helper", "", F, none, ""},
    {"check_same_kind", "helper", "", F, none, ""},
    {"check_floating", "helper", "", F, none, ""},
    {"check_floating_axis", "helper", "", F, none, ""},
});

constexpr auto kTensorMembers = std::to_array<std::string_view>({
    "empty", "defined", "shape", "strides", "ndim", "size", "numel", "dtype", "device", "is_contiguous",
    "offset", "requires_grad", "requires_grad_", "grad", "set_grad", "retain_grad", "is_leaf", "backward",
    "slot", "data", "item", "at", "at_flat", "to_vector", "to_host", "dim", "impl", "impl_ptr", "is_same",
});

}  // namespace

std::span<const OpEntry> op_list() { return kOps; }

std::span<const std::string_view> tensor_members_not_ops() { return kTensorMembers; }

std::string_view op_body_name(OpBody body) {
  switch (body) {
    case OpBody::records: return "records its node";
    case OpBody::composes: return "composed";
    case OpBody::kernel: return "fused kernel";
    case OpBody::view: return "view";
    case OpBody::none: return "no gradient";
  }
  return "?";
}

}  // namespace tg
