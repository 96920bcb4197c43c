// Conformance against PyTorch, driven by the op list (ops/op_list.cpp): every
// case of tests/fixtures/conformance.txt (make_conformance_fixtures.py, Debian's
// PyTorch, float64) is run here through the op's function form and, where it
// has one, its method or operator form, with its inputs laid out four ways —
// contiguous, transposed (a view over memory in the other order), a step-2
// slice, and the first float input's first row expanded (stride 0) — and in
// float32. Each run must give PyTorch's value, dtype and shape, require grad
// exactly when PyTorch's result does (a graph cut fails here), and give
// PyTorch's float64 gradients; the contiguous run also passes tg::gradcheck.
// Every listed op with a PyTorch counterpart must have a case here (or an
// exemption with its reason), and every method form must be tried.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Shape;
using tg::Tensor;

namespace {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

struct Form {
  std::string op;  // the op list's name
  Fn function;
  Fn method;  // the method or operator form, when the op has one; empty otherwise
};

// Several results joined flat, piece k times k + 1 (the fixture script's as_tensor).
Tensor joined(const std::vector<Tensor>& pieces) {
  std::vector<Tensor> flat;
  for (size_t k = 0; k < pieces.size(); ++k)
    flat.push_back(tg::reshape(pieces[k].to(DType::f64), {-1}) * static_cast<double>(k + 1));
  return tg::cat(flat);
}

std::map<std::string, Form> forms() {
  using namespace tg;
  std::map<std::string, Form> f;
  auto unary = [&](const std::string& name, Tensor (*fn)(const Tensor&), Tensor (Tensor::*method)() const = nullptr) {
    Fn m;
    if (method) m = [method](const Inputs& in) { return (in[0].*method)(); };
    f[name] = {name, [fn](const Inputs& in) { return fn(in[0]); }, m};
  };
  unary("abs", tg::abs, &Tensor::abs);
  unary("neg", tg::neg, &Tensor::neg);
  f["neg"].method = [](const Inputs& in) { return -in[0]; };
  unary("exp", tg::exp, &Tensor::exp);
  unary("log", tg::log, &Tensor::log);
  unary("log1p", tg::log1p);
  unary("sqrt", tg::sqrt, &Tensor::sqrt);
  unary("rsqrt", tg::rsqrt);
  unary("sin", tg::sin);
  unary("cos", tg::cos);
  unary("tanh", tg::tanh, &Tensor::tanh);
  unary("sigmoid", tg::sigmoid, &Tensor::sigmoid);
  unary("relu", tg::relu, &Tensor::relu);
  unary("silu", tg::silu);
  unary("erf", tg::erf);
  f["gelu"] = {"gelu", [](const Inputs& in) { return gelu(in[0]); }, {}};
  f["exp_0d"] = {"exp", [](const Inputs& in) { return exp(in[0]); }, {}};
  f["tanh_empty"] = {"tanh", [](const Inputs& in) { return tanh(in[0]); }, {}};
  f["gelu_tanh"] = {"gelu", [](const Inputs& in) { return gelu(in[0], GeluApproximation::tanh); }, {}};
  f["softplus"] = {"softplus", [](const Inputs& in) { return softplus(in[0], 2, 3); }, {}};
  f["clamp"] = {"clamp", [](const Inputs& in) { return clamp(in[0], -0.5, 0.7); },
                [](const Inputs& in) { return in[0].clamp(-0.5, 0.7); }};
  f["clamp_min_fn"] = {"clamp_min", [](const Inputs& in) { return clamp_min(in[0], -0.2); },
                       [](const Inputs& in) { return in[0].clamp_min(-0.2); }};
  f["clamp_max_fn"] = {"clamp_max", [](const Inputs& in) { return clamp_max(in[0], 0.3); },
                       [](const Inputs& in) { return in[0].clamp_max(0.3); }};
  f["clamp_min"] = {"clamp", [](const Inputs& in) { return clamp(in[0], -0.2, std::nullopt); }, {}};
  f["clamp_max"] = {"clamp", [](const Inputs& in) { return clamp(in[0], std::nullopt, 0.3); }, {}};
  f["pow2"] = {"pow", [](const Inputs& in) { return pow(in[0], 2); }, [](const Inputs& in) { return in[0].pow(2); }};
  f["pow_half"] = {"pow", [](const Inputs& in) { return pow(in[0], 1.5); }, {}};
  f["pow_int"] = {"pow", [](const Inputs& in) { return pow(in[0], 3); }, {}};

  f["add"] = {"add", [](const Inputs& in) { return add(in[0], in[1]); }, [](const Inputs& in) { return in[0] + in[1]; }};
  f["add_scalar"] = {"add", [](const Inputs& in) { return add(in[0], 2.5); }, [](const Inputs& in) { return in[0] + 2.5; }};
  f["add_int_float"] = {"add", [](const Inputs& in) { return add(in[0], 0.5); }, {}};
  f["sub"] = {"sub", [](const Inputs& in) { return sub(in[0], in[1]); }, [](const Inputs& in) { return in[0] - in[1]; }};
  f["sub_scalar"] = {"sub", [](const Inputs& in) { return sub(in[0], 1.5); }, {}};
  f["rsub_scalar"] = {"sub", [](const Inputs& in) { return sub(1.5, in[0]); }, [](const Inputs& in) { return 1.5 - in[0]; }};
  f["mul"] = {"mul", [](const Inputs& in) { return mul(in[0], in[1]); }, [](const Inputs& in) { return in[0] * in[1]; }};
  f["mul_scalar"] = {"mul", [](const Inputs& in) { return mul(in[0], -3.0); }, {}};
  f["mul_0d"] = {"mul", [](const Inputs& in) { return mul(in[0], in[1]); }, {}};
  f["div"] = {"div", [](const Inputs& in) { return div(in[0], in[1]); }, [](const Inputs& in) { return in[0] / in[1]; }};
  f["div_scalar"] = {"div", [](const Inputs& in) { return div(in[0], 4.0); }, {}};
  f["rdiv_scalar"] = {"div", [](const Inputs& in) { return div(2.0, in[0]); }, [](const Inputs& in) { return 2.0 / in[0]; }};
  f["div_int"] = {"div", [](const Inputs& in) { return div(in[0], in[1]); }, {}};
  f["div_trunc"] = {"div", [](const Inputs& in) { return div(in[0], in[1], RoundingMode::trunc); }, {}};
  f["div_floor"] = {"div", [](const Inputs& in) { return div(in[0], in[1], RoundingMode::floor); }, {}};
  f["floor_divide"] = {"floor_divide", [](const Inputs& in) { return floor_divide(in[0], in[1]); }, {}};
  f["remainder"] = {"remainder", [](const Inputs& in) { return remainder(in[0], in[1]); },
                    [](const Inputs& in) { return in[0] % in[1]; }};
  f["fmod"] = {"fmod", [](const Inputs& in) { return fmod(in[0], in[1]); }, {}};
  f["where"] = {"where", [](const Inputs& in) { return where(in[0], in[1], in[2]); }, {}};
  f["where_scalar"] = {"where", [](const Inputs& in) { return where(in[0], in[1], 0.5); }, {}};
  f["masked_fill"] = {"masked_fill", [](const Inputs& in) { return masked_fill(in[0], in[1], -2.0); },
                      [](const Inputs& in) { return in[0].masked_fill(in[1], -2.0); }};
  f["eq"] = {"eq", [](const Inputs& in) { return eq(in[0], in[1]); }, {}};
  f["ne"] = {"ne", [](const Inputs& in) { return ne(in[0], in[1]); }, {}};
  f["lt"] = {"lt", [](const Inputs& in) { return lt(in[0], in[1]); }, [](const Inputs& in) { return in[0] < in[1]; }};
  f["le"] = {"le", [](const Inputs& in) { return le(in[0], in[1]); }, [](const Inputs& in) { return in[0] <= in[1]; }};
  f["gt"] = {"gt", [](const Inputs& in) { return gt(in[0], in[1]); }, [](const Inputs& in) { return in[0] > in[1]; }};
  f["ge"] = {"ge", [](const Inputs& in) { return ge(in[0], in[1]); }, [](const Inputs& in) { return in[0] >= in[1]; }};
  f["lt_scalar"] = {"lt", [](const Inputs& in) { return lt(in[0], 0.25); }, [](const Inputs& in) { return in[0] < 0.25; }};
  f["logical_and"] = {"logical_and", [](const Inputs& in) { return logical_and(in[0], in[1]); }, {}};
  f["logical_or"] = {"logical_or", [](const Inputs& in) { return logical_or(in[0], in[1]); }, {}};
  f["logical_not"] = {"logical_not", [](const Inputs& in) { return logical_not(in[0]); }, {}};

  f["sum"] = {"sum", [](const Inputs& in) { return sum(in[0]); }, [](const Inputs& in) { return in[0].sum(); }};
  f["sum_axis"] = {"sum", [](const Inputs& in) { return sum(in[0], 1); }, [](const Inputs& in) { return in[0].sum(1); }};
  f["sum_axes_keepdim"] = {"sum", [](const Inputs& in) { return sum(in[0], std::vector<int>{0, 2}, true); },
                           [](const Inputs& in) { return in[0].sum(std::vector<int>{0, 2}, true); }};
  f["sum_empty"] = {"sum", [](const Inputs& in) { return sum(in[0]); }, {}};
  f["mean"] = {"mean", [](const Inputs& in) { return mean(in[0]); }, [](const Inputs& in) { return in[0].mean(); }};
  f["mean_axis"] = {"mean", [](const Inputs& in) { return mean(in[0], -1, true); },
                    [](const Inputs& in) { return in[0].mean(-1, true); }};
  f["prod"] = {"prod", [](const Inputs& in) { return prod(in[0]); }, {}};
  f["prod_axis"] = {"prod", [](const Inputs& in) { return prod(in[0], 0); }, {}};
  f["cumprod"] = {"cumprod", [](const Inputs& in) { return cumprod(in[0], 1); }, {}};
  f["cumsum"] = {"cumsum", [](const Inputs& in) { return cumsum(in[0], 0); }, [](const Inputs& in) { return in[0].cumsum(0); }};
  f["max"] = {"max", [](const Inputs& in) { return max(in[0]); }, [](const Inputs& in) { return in[0].max(); }};
  f["max_axis"] = {"max", [](const Inputs& in) {
                     const MaxResult r = max(in[0], 1);
                     return joined({r.values, r.indices});
                   }, {}};
  f["min"] = {"min", [](const Inputs& in) { return min(in[0]); }, [](const Inputs& in) { return in[0].min(); }};
  f["min_axis"] = {"min", [](const Inputs& in) {
                     const MinResult r = min(in[0], 0, true);
                     return joined({r.values, r.indices});
                   }, {}};
  f["argmax"] = {"argmax", [](const Inputs& in) { return argmax(in[0], 1); },
                 [](const Inputs& in) { return in[0].argmax(1); }};
  f["argmin"] = {"argmin", [](const Inputs& in) { return argmin(in[0], 0, true); }, {}};
  f["var"] = {"var", [](const Inputs& in) { return var(in[0]); }, [](const Inputs& in) { return in[0].var(); }};
  f["var_axis"] = {"var", [](const Inputs& in) { return var(in[0], 1, 0, true); }, {}};
  f["std"] = {"std", [](const Inputs& in) { return tg::std(in[0]); }, [](const Inputs& in) { return in[0].std(); }};
  f["std_axis"] = {"std", [](const Inputs& in) { return tg::std(in[0], 0); }, {}};
  f["logsumexp"] = {"logsumexp", [](const Inputs& in) { return logsumexp(in[0], 1); }, {}};
  f["softmax"] = {"softmax", [](const Inputs& in) { return softmax(in[0], 1); },
                  [](const Inputs& in) { return in[0].softmax(1); }};
  f["log_softmax"] = {"log_softmax", [](const Inputs& in) { return log_softmax(in[0], -1); },
                      [](const Inputs& in) { return in[0].log_softmax(-1); }};
  f["sort"] = {"sort", [](const Inputs& in) {
                 const Sorted r = sort(in[0], 1);
                 return joined({r.values, r.indices});
               }, [](const Inputs& in) {
                 const Sorted r = in[0].sort(1);
                 return joined({r.values, r.indices});
               }};
  f["sort_descending"] = {"sort", [](const Inputs& in) {
                            const Sorted r = sort(in[0], 0, true, true);
                            return joined({r.values, r.indices});
                          }, {}};
  f["argsort"] = {"argsort", [](const Inputs& in) { return argsort(in[0], 1); },
                  [](const Inputs& in) { return in[0].argsort(1); }};
  f["unique"] = {"unique", [](const Inputs& in) {
                   const Unique r = unique(in[0], {.return_inverse = true, .return_counts = true});
                   return joined({r.values, r.inverse, r.counts});
                 }, {}};
  f["topk"] = {"topk", [](const Inputs& in) {
                 const TopK r = topk(in[0], 2, 1);
                 return joined({r.values, r.indices});
               }, [](const Inputs& in) {
                 const TopK r = in[0].topk(2, 1);
                 return joined({r.values, r.indices});
               }};
  f["topk_smallest"] = {"topk", [](const Inputs& in) {
                          const TopK r = topk(in[0], 2, 0, false);
                          return joined({r.values, r.indices});
                        }, {}};

  f["reshape"] = {"reshape", [](const Inputs& in) { return reshape(in[0], {4, 6}); },
                  [](const Inputs& in) { return in[0].reshape({4, 6}); }};
  f["flatten"] = {"flatten", [](const Inputs& in) { return flatten(in[0], 1); },
                  [](const Inputs& in) { return in[0].flatten(1); }};
  f["unsqueeze"] = {"unsqueeze", [](const Inputs& in) { return unsqueeze(in[0], 1); },
                    [](const Inputs& in) { return in[0].unsqueeze(1); }};
  f["squeeze"] = {"squeeze", [](const Inputs& in) { return squeeze(in[0], 1); },
                  [](const Inputs& in) { return in[0].squeeze(1); }};
  f["transpose"] = {"transpose", [](const Inputs& in) { return transpose(in[0], 0, 2); },
                    [](const Inputs& in) { return in[0].transpose(0, 2); }};
  f["permute"] = {"permute", [](const Inputs& in) { return permute(in[0], {2, 0, 1}); },
                  [](const Inputs& in) { return in[0].permute({2, 0, 1}); }};
  f["expand"] = {"expand", [](const Inputs& in) { return expand(in[0], {2, 3, 4}); },
                 [](const Inputs& in) { return in[0].expand({2, 3, 4}); }};
  f["broadcast_to"] = {"broadcast_to", [](const Inputs& in) { return broadcast_to(in[0], {3, 4}); }, {}};
  f["slice"] = {"slice", [](const Inputs& in) { return slice(in[0], 1, 1, 4, 2); }, {}};
  f["select"] = {"select", [](const Inputs& in) { return select(in[0], 1, 2); }, {}};
  f["select_first"] = {"select", [](const Inputs& in) { return select(in[0], 0, 1); },
                       [](const Inputs& in) { return in[0][1]; }};
  f["split"] = {"split", [](const Inputs& in) { return joined(split(in[0], 3, 1)); },
                [](const Inputs& in) { return joined(in[0].split(3, 1)); }};
  f["split_sizes"] = {"split", [](const Inputs& in) { return joined(split(in[0], std::vector<int64_t>{1, 2}, 0)); }, {}};
  f["chunk"] = {"chunk", [](const Inputs& in) { return joined(chunk(in[0], 2, 2)); },
                [](const Inputs& in) { return joined(in[0].chunk(2, 2)); }};
  f["cat"] = {"cat", [](const Inputs& in) { return cat({in[0], in[1]}, 1); }, {}};
  f["cat_concat"] = {"concat", [](const Inputs& in) { return concat({in[0], in[1]}, 1); }, {}};
  f["stack"] = {"stack", [](const Inputs& in) { return stack({in[0], in[1]}, 2); }, {}};
  f["flip"] = {"flip", [](const Inputs& in) { return flip(in[0], {0, 2}); }, {}};
  f["triu"] = {"triu", [](const Inputs& in) { return triu(in[0], 1); }, {}};
  f["tril"] = {"tril", [](const Inputs& in) { return tril(in[0], -1); }, {}};
  f["repeat_interleave"] = {"repeat_interleave", [](const Inputs& in) { return repeat_interleave(in[0], 2, 1); }, {}};
  f["repeat_interleave_counts"] = {"repeat_interleave", [](const Inputs& in) {
                                     return repeat_interleave(in[0], std::vector<int64_t>{2, 0, 1}, 0);
                                   }, {}};
  f["index_select"] = {"index_select", [](const Inputs& in) { return index_select(in[0], 1, in[1]); },
                       [](const Inputs& in) { return in[0].index_select(1, in[1]); }};
  f["gather"] = {"gather", [](const Inputs& in) { return gather(in[0], 1, in[1]); },
                 [](const Inputs& in) { return in[0].gather(1, in[1]); }};
  f["scatter_add"] = {"scatter_add", [](const Inputs& in) { return scatter_add(in[0], 1, in[1], in[2]); }, {}};
  f["index_add"] = {"index_add", [](const Inputs& in) { return index_add(in[0], 0, in[1], in[2], 2.0); },
                    [](const Inputs& in) { return in[0].index_add(0, in[1], in[2], 2.0); }};
  f["nonzero"] = {"nonzero", [](const Inputs& in) { return nonzero(in[0]); }, {}};
  f["repeat"] = {"repeat", [](const Inputs& in) { return repeat(in[0], {2, 1, 3}); },
                 [](const Inputs& in) { return in[0].repeat({2, 1, 3}); }};
  f["one_hot"] = {"one_hot", [](const Inputs& in) { return one_hot(in[0], 5); }, {}};
  f["embedding"] = {"embedding", [](const Inputs& in) { return embedding(in[1], in[0]); }, {}};
  f["embedding_padding"] = {"embedding", [](const Inputs& in) { return embedding(in[1], in[0], 3); }, {}};
  f["contiguous"] = {"contiguous", [](const Inputs& in) { return transpose(in[0], 0, 1).contiguous(); }, {}};
  f["clone"] = {"clone", [](const Inputs& in) { return in[0].clone(); }, {}};
  f["to_float32"] = {"to", [](const Inputs& in) { return in[0].to(DType::f32); }, {}};
  f["to_int64"] = {"to", [](const Inputs& in) { return in[0].to(DType::i64); }, {}};
  f["detach"] = {"detach", [](const Inputs& in) { return in[0].detach(); }, {}};
  f["view"] = {"view", [](const Inputs& in) { return in[0].view({4, 6}); }, {}};

  f["matmul"] = {"matmul", [](const Inputs& in) { return matmul(in[0], in[1]); },
                 [](const Inputs& in) { return in[0].matmul(in[1]); }};
  f["matmul_batched"] = f["matmul_broadcast"] = f["matmul_vector"] = f["matmul"];
  f["dot"] = {"dot", [](const Inputs& in) { return dot(in[0], in[1]); }, {}};
  f["mv"] = {"mv", [](const Inputs& in) { return mv(in[0], in[1]); }, {}};
  f["linear"] = {"linear", [](const Inputs& in) { return linear(in[0], in[1], in[2]); }, {}};
  f["linear_no_bias"] = {"linear", [](const Inputs& in) { return linear(in[0], in[1]); }, {}};
  f["einsum"] = {"einsum", [](const Inputs& in) { return einsum("bij,jk->bik", {in[0], in[1]}); }, {}};
  f["layer_norm"] = {"layer_norm", [](const Inputs& in) { return layer_norm(in[0], {4}, in[1], in[2]); }, {}};
  f["conv1d"] = {"conv1d", [](const Inputs& in) { return conv1d(in[0], in[1], in[2], 2, 1, 1, 1); }, {}};
  f["conv2d"] = {"conv2d", [](const Inputs& in) {
                   return conv2d(in[0], in[1], in[2], Size2{2, 1}, 1, Size2{1, 2}, 2);
                 }, {}};
  f["conv2d_unbatched"] = {"conv2d", [](const Inputs& in) { return conv2d(in[0], in[1]); }, {}};
  f["max_pool2d"] = {"max_pool2d", [](const Inputs& in) { return max_pool2d(in[0], 3, 2, 1); }, {}};
  f["avg_pool2d"] = {"avg_pool2d", [](const Inputs& in) { return avg_pool2d(in[0], Size2{2, 3}, Size2{2, 1}, 1); }, {}};
  f["avg_pool2d_exclude_pad"] = {"avg_pool2d", [](const Inputs& in) {
                                   return avg_pool2d(in[0], 3, 2, 1, true, false);
                                 }, {}};
  f["adaptive_avg_pool2d"] = {"adaptive_avg_pool2d", [](const Inputs& in) {
                                return adaptive_avg_pool2d(in[0], Size2{3, 4});
                              }, {}};
  // The running statistics are updated in place: each run gets its own copies.
  f["batch_norm_training"] = {"batch_norm", [](const Inputs& in) {
                                return batch_norm(in[0], in[1].clone(), in[2].clone(), in[3], in[4], true);
                              }, {}};
  f["batch_norm_eval"] = {"batch_norm", [](const Inputs& in) {
                            return batch_norm(in[0], in[1], in[2], in[3], in[4], false);
                          }, {}};
  f["dropout_eval"] = {"dropout", [](const Inputs& in) { return dropout(in[0], 0.5, false); }, {}};
  f["scaled_dot_product_attention"] = {"scaled_dot_product_attention", [](const Inputs& in) {
                                         return scaled_dot_product_attention(in[0], in[1], in[2]);
                                       }, {}};

  f["mse_loss"] = {"mse_loss", [](const Inputs& in) { return mse_loss(in[0], in[1]); }, {}};
  f["mse_loss_sum"] = {"mse_loss", [](const Inputs& in) { return mse_loss(in[0], in[1], Reduction::sum); }, {}};
  f["l1_loss"] = {"l1_loss", [](const Inputs& in) { return l1_loss(in[0], in[1]); }, {}};
  f["smooth_l1_loss"] = {"smooth_l1_loss", [](const Inputs& in) {
                           return smooth_l1_loss(in[0], in[1], Reduction::mean, 0.5);
                         }, {}};
  f["binary_cross_entropy"] = {"binary_cross_entropy", [](const Inputs& in) {
                                 return binary_cross_entropy(in[0], in[1]);
                               }, {}};
  f["binary_cross_entropy_with_logits"] = {"binary_cross_entropy_with_logits", [](const Inputs& in) {
                                             return binary_cross_entropy_with_logits(in[0], in[1]);
                                           }, {}};
  f["cross_entropy"] = {"cross_entropy", [](const Inputs& in) { return cross_entropy(in[0], in[1]); }, {}};
  f["cross_entropy_options"] = {"cross_entropy", [](const Inputs& in) {
                                  return cross_entropy(in[0], in[1], {.ignore_index = 0, .label_smoothing = 0.1,
                                                                      .reduction = Reduction::sum});
                                }, {}};
  f["nll_loss"] = {"nll_loss", [](const Inputs& in) { return nll_loss(in[0], in[1]); }, {}};
  f["ctc_loss"] = {"ctc_loss", [](const Inputs& in) {
                     return ctc_loss(log_softmax(in[0], 2), in[1], std::vector<int64_t>{6, 5}, std::vector<int64_t>{3, 2}, 0,
                                     Reduction::sum);
                   }, {}};

  f["zeros"] = {"zeros", [](const Inputs&) { return zeros({2, 3}); }, {}};
  f["ones"] = {"ones", [](const Inputs&) { return ones({2, 3}); }, {}};
  f["full"] = {"full", [](const Inputs&) { return full({2, 3}, 2.5); }, {}};
  f["zeros_like"] = {"zeros_like", [](const Inputs& in) { return zeros_like(in[0]); }, {}};
  f["ones_like"] = {"ones_like", [](const Inputs& in) { return ones_like(in[0]); }, {}};
  f["full_like"] = {"full_like", [](const Inputs& in) { return full_like(in[0], -1.5); }, {}};
  f["eye"] = {"eye", [](const Inputs&) { return eye(3, 4); }, {}};
  f["arange"] = {"arange", [](const Inputs&) { return arange(5); }, {}};
  f["arange_float"] = {"arange", [](const Inputs&) { return arange(0.0, 1.0, 0.25); }, {}};
  f["tensor_literals"] = {"tensor", [](const Inputs&) { return tensor({0.5, 1.5, -2.0}); }, {}};
  f["tensor_ints"] = {"tensor", [](const Inputs&) { return tensor({1, 2, 3}); }, {}};
  f["scalar"] = {"scalar", [](const Inputs&) { return scalar(2.5); }, {}};
  return f;
}

// Listed ops with a PyTorch counterpart that have no case here, and why.
const std::map<std::string, std::string>& exempt() {
  static const std::map<std::string, std::string> reasons = {
      {"randn", "draws from tapegrad's generator; test_tensor checks its moments"},
      {"normal", "draws from tapegrad's generator; test_tensor checks its moments"},
      {"uniform", "draws from tapegrad's generator; test_tensor checks its range"},
      {"recompute", "runs fn again in backward; test_recompute checks it equals the plain graph"},
      {"copy_", "in place, returns nothing; test_tensor checks it"},
      {"from_vector", "tensor's body; its cases are tensor's"},
      {"empty_like", "uninitialised values; test_everyday_surface checks shape, dtype and device"},
      {"rand_like", "draws from tapegrad's generator; test_everyday_surface checks its range"},
      {"randn_like", "draws from tapegrad's generator; test_everyday_surface checks its moments"},
      {"randint_like", "draws from tapegrad's generator; test_everyday_surface checks its range"},
  };
  return reasons;
}

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("conformance.txt");
  return loaded;
}

bool has(const std::string& name) { return fixture().count(name) > 0; }

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& [name, t] : fixture()) {
    const size_t dot = name.find('.');
    if (name.substr(dot) == ".out") names.push_back(name.substr(0, dot));
  }
  return names;
}

struct InputSpec {
  std::string name;  // fixture tensor
  char kind;         // f c i b
};

std::vector<InputSpec> input_specs(const std::string& c) {
  std::vector<InputSpec> specs;
  for (int i = 0;; ++i) {
    bool found = false;
    for (const char kind : {'f', 'c', 'i', 'b'}) {
      const std::string name = c + ".x" + std::to_string(i) + kind;
      if (has(name)) specs.push_back({name, kind}), found = true;
    }
    if (!found) return specs;
  }
}

DType dtype_of_code(double code) {
  static const DType codes[] = {DType::f32, DType::f64, DType::i64, DType::boolean};
  return codes[static_cast<int>(code)];
}

// A fixture tensor in `dtype`, zero-dim ones included (from_vector reads shape () as (n,)).
Tensor fixture_value(const std::string& name, DType dtype) {
  const Tensor t = fixture_tensor(fixture(), name, dtype);
  return entry(fixture(), name).shape.empty() ? tg::reshape(t, Shape{}) : t;
}

Tensor value_of(const InputSpec& s, DType float_type) {
  switch (s.kind) {
    case 'i': return fixture_value(s.name, DType::i64);
    case 'b': return fixture_value(s.name, DType::boolean);
    default: return fixture_value(s.name, float_type);
  }
}

void check_close(const Tensor& got, const std::string& want_name, double tol, const std::string& what) {
  CAPTURE(what);
  const FixtureTensor& want = entry(fixture(), want_name);
  REQUIRE_MESSAGE(got.shape() == want.shape, what << ": shape " << got.shape().str() << ", PyTorch "
                                                   << want.shape.str());
  const std::vector<double> g = got.to_vector<double>();
  double worst = 0, scale = 1;
  for (size_t i = 0; i < g.size(); ++i) {
    scale = std::max(scale, std::abs(want.values[i]));
    if (!(std::isnan(g[i]) && std::isnan(want.values[i]))) worst = std::max(worst, std::abs(g[i] - want.values[i]));
  }
  CHECK_MESSAGE(worst <= tol * scale, what << ": max |tapegrad - PyTorch| = " << worst << " at scale " << scale);
}

// One run of case `c` through `fn` with its inputs in `layout` and floats as `float_type`.
void run_case(const std::string& c, const Fn& fn, Layout layout, DType float_type, const std::string& label) {
  const std::vector<InputSpec> specs = input_specs(c);
  std::vector<Laid> laid;
  Inputs inputs;
  for (const InputSpec& s : specs) {
    laid.push_back(lay_out(value_of(s, float_type), layout, s.kind == 'f'));
    inputs.push_back(laid.back().input);
  }
  const bool f64 = float_type == DType::f64;
  const Tensor out = fn(inputs);
  const std::string what = c + " (" + label + ")";
  const DType want_dtype = dtype_of_code(entry(fixture(), c + (f64 ? ".dtype" : ".dtype32")).values[0]);
  CHECK_MESSAGE(out.dtype() == want_dtype, what << ": dtype " << tg::dtype_name(out.dtype()) << ", PyTorch "
                                                 << tg::dtype_name(want_dtype));
  check_close(out, c + ".out", f64 ? 1e-12 : 2e-5, what + " value");
  const bool torch_grad = has(c + ".w");
  CHECK_MESSAGE(out.requires_grad() == torch_grad,
                what << ": requires_grad " << out.requires_grad() << ", PyTorch's result " << torch_grad);
  if (!torch_grad || !out.requires_grad()) return;
  tg::sum(out * fixture_value(c + ".w", out.dtype())).backward();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].kind == 'f')
      check_close(laid[i].grad().defined() ? laid[i].grad() : tg::zeros_like(laid[i].input), c + ".g" + std::to_string(i),
                  f64 ? 1e-12 : 2e-4,
                  what + " gradient of input " + std::to_string(i));
}

// The expanded run: the first float input (rank >= 1, size > 1 in dim 0) is its first row expanded.
void run_expanded(const std::string& c, const Fn& fn) {
  if (!has(c + ".e.out")) return;
  const std::vector<InputSpec> specs = input_specs(c);
  Inputs inputs;
  std::vector<std::pair<size_t, Tensor>> leaves;
  bool expanded = false;
  for (size_t i = 0; i < specs.size(); ++i) {
    Tensor v = value_of(specs[i], DType::f64);
    if (!expanded && specs[i].kind == 'f' && v.ndim() >= 1 && v.size(0) > 1) {
      const Tensor row = tg::slice(v, 0, 0, 1).clone().requires_grad_();
      inputs.push_back(tg::expand(row, v.shape()));
      leaves.push_back({i, row});
      expanded = true;
    } else {
      if (specs[i].kind == 'f') v.requires_grad_(), leaves.push_back({i, v});
      inputs.push_back(v);
    }
  }
  const Tensor out = fn(inputs);
  check_close(out, c + ".e.out", 1e-12, c + " (expanded) value");
  REQUIRE(out.requires_grad());
  tg::sum(out * fixture_value(c + ".w", out.dtype())).backward();
  for (const auto& [i, leaf] : leaves)
    check_close(leaf.grad().defined() ? leaf.grad() : tg::zeros_like(leaf), c + ".e.g" + std::to_string(i), 1e-12,
                c + " (expanded) gradient of input " + std::to_string(i));
}

void gradcheck_case(const std::string& c, const Fn& fn) {
  // A padding row gets no gradient by definition, which finite differences do not know.
  // A float32 result (to_float32) is too coarse for finite differences.
  if (!has(c + ".w") || c == "embedding_padding" || dtype_of_code(entry(fixture(), c + ".dtype").values[0]) != DType::f64)
    return;
  const std::vector<InputSpec> specs = input_specs(c);
  Inputs all;
  std::vector<size_t> varied_at;
  Inputs varied;
  for (size_t i = 0; i < specs.size(); ++i) {
    all.push_back(value_of(specs[i], DType::f64));
    if (specs[i].kind == 'f') varied_at.push_back(i), varied.push_back(all.back().requires_grad_());
  }
  const tg::GradcheckResult r = tg::gradcheck(
      [&](const Inputs& v) {
        Inputs in = all;
        for (size_t k = 0; k < v.size(); ++k) in[varied_at[k]] = v[k];
        return fn(in);
      },
      varied);
  CHECK_MESSAGE(r.ok, c << " gradcheck: " << r.message);
}

}  // namespace

TEST_CASE("every conformance case equals PyTorch: values, dtype, gradients, in every layout and in float32") {
  const std::map<std::string, Form> all = forms();
  for (const std::string& c : case_names()) {
    CAPTURE(c);
    const auto it = all.find(c);
    REQUIRE_MESSAGE(it != all.end(), "conformance.txt has case " << c << " and test_conformance.cpp no form for it");
    const Fn& fn = it->second.function;
    run_case(c, fn, Layout::contiguous, DType::f64, "contiguous");
    if (!has(c + ".contiguous_only")) {
      run_case(c, fn, Layout::transposed, DType::f64, "transposed");
      run_case(c, fn, Layout::strided, DType::f64, "strided");
      run_expanded(c, fn);
    }
    run_case(c, fn, Layout::contiguous, DType::f32, "float32");
    gradcheck_case(c, fn);
  }
}

TEST_CASE("method and operator forms equal the function form, gradients included, in every layout") {
  for (const auto& named_form : forms()) {
    const std::string& c = named_form.first;  // a plain reference: clang 14 cannot capture a structured binding
    const Form& form = named_form.second;
    if (!form.method) continue;
    CAPTURE(c);
    REQUIRE_MESSAGE(has(c + ".out"), "test_conformance.cpp has form " << c << " that conformance.txt lacks");
    run_case(c, form.method, Layout::contiguous, DType::f64, "method, contiguous");
    run_case(c, form.method, Layout::transposed, DType::f64, "method, transposed");
    run_case(c, form.method, Layout::strided, DType::f64, "method, strided");
  }
}

TEST_CASE("every listed op with a PyTorch counterpart has conformance cases, and every method form is tried") {
  const std::map<std::string, Form> all = forms();
  std::set<std::string> covered, methods_tried;
  for (const auto& named_form : all) {
    const std::string& c = named_form.first;
    const Form& form = named_form.second;
    CHECK_MESSAGE(has(c + ".out"), "form " << c << " has no case in conformance.txt");
    covered.insert(form.op);
    if (form.method) methods_tried.insert(form.op);
  }
  int checked = 0;
  for (const tg::OpEntry& e : tg::op_list()) {
    const std::string name(e.name);
    CAPTURE(name);
    if (e.pytorch.empty() || e.group == "helper") continue;
    ++checked;
    if (exempt().count(name)) continue;
    CHECK_MESSAGE(covered.count(name), name << " (" << e.pytorch << ") is listed and has no conformance case");
    // A method-only op (view, clone) is called as a method by its cases' function form.
    if ((e.forms & tg::op_function) && (e.forms & (tg::op_method | tg::op_operator)))
      CHECK_MESSAGE(methods_tried.count(name), name << " has a method or operator form that no conformance case calls");
  }
  CHECK(checked > 100);
  for (const auto& exemption : exempt()) {
    const std::string& name = exemption.first;
    const bool listed = std::any_of(tg::op_list().begin(), tg::op_list().end(),
                                    [&](const tg::OpEntry& e) { return e.name == name; });
    CHECK_MESSAGE(listed, "exemption for " << name << ", which the op list lacks");
  }
}
