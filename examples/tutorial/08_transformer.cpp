// Chapter 8 of the tutorial (docs/tutorial/08-transformer.md): the
// Transformer from ops — scaled dot-product attention with the causal mask,
// multi-head attention by reshaping, layer norm and the encoder layer — each
// equal to nn::MultiheadAttention, nn::LayerNorm and
// nn::TransformerEncoderLayer in values and gradients (float64, 1e-12); what a
// copy off the tape does to the gradients; then a tiny character GPT built
// from those functions, trained on a short text, with its attention maps
// drawn (gpt_attention_head0..3.svg). Exits 1 if a claim does not hold.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "io/text_file.h"
#include "plot/svg.h"
#include "tutorial_checks.h"

using tutorial::expect;
using tutorial::max_abs_diff;

namespace {

using tg::Tensor;

// [tutorial:attention]
// softmax(q kᵀ / √D + mask) v for q (..., L, D), k and v (..., S, D): every
// query position takes a weighted mean of the values, weighted by how well
// its query matches each key. Causal: position i sees only keys j ≤ i.
struct Attended {
  Tensor output;   // (..., L, D)
  Tensor weights;  // (..., L, S), each row sums to 1
};
Attended scaled_dot_product(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const int64_t L = q.size(q.ndim() - 2), S = k.size(k.ndim() - 2), D = q.size(q.ndim() - 1);
  Tensor scores = tg::matmul(q, tg::transpose(k, -2, -1)) / std::sqrt(static_cast<double>(D));  // (..., L, S)
  if (causal) {  // above the diagonal lies the future: score −∞, weight exactly 0
    const Tensor future = tg::gt(tg::triu(tg::ones({L, S}), 1), 0);  // (L, S) bool, broadcast over (...)
    scores = tg::masked_fill(scores, future, -std::numeric_limits<double>::infinity());
  }
  const Tensor weights = tg::softmax(scores, -1);
  return {tg::matmul(weights, v), weights};
}
// [/tutorial:attention]

// [tutorial:heads]
// H heads of size D = E / H on x (N, L, E): one projection makes q, k and v
// for all heads, a reshape and a transpose give each head its own (L, D)
// slice, and the heads' outputs are joined back to (N, L, E).
Attended multi_head(const tg::nn::MultiheadAttention& mha, const Tensor& x, bool causal) {
  const int64_t N = x.size(0), L = x.size(1), E = x.size(2), H = mha.num_heads(), D = E / H;
  const Tensor qkv = tg::matmul(x, tg::transpose(mha.in_proj_weight, 0, 1)) + mha.in_proj_bias;  // (N, L, 3E)
  const std::vector<Tensor> parts = tg::split(qkv, E, 2);  // q, k, v: each (N, L, E)
  auto by_head = [&](const Tensor& t) { return tg::transpose(tg::reshape(t, {N, L, H, D}), 1, 2); };  // (N, H, L, D)
  const Attended a = scaled_dot_product(by_head(parts[0]), by_head(parts[1]), by_head(parts[2]), causal);
  // (N, H, L, D) -> (N, L, H, D) -> (N, L, E). The transpose is a view with
  // permuted strides, so this reshape must copy; the copy is an op on the
  // tape like any other, and the gradient flows back through it.
  const Tensor joined = tg::reshape(tg::transpose(a.output, 1, 2), {N, L, E});
  return {mha.out_proj(joined), a.weights};  // weights (N, H, L, L)
}
// [/tutorial:heads]

// [tutorial:layer_norm]
// Each position's E features to mean 0 and variance 1, then scaled and
// shifted: y = (x − mean) / √(var + eps) · weight + bias, over the last axis.
Tensor layer_norm(const Tensor& x, const tg::nn::LayerNorm& norm, double eps = 1e-5) {
  const Tensor mean = tg::mean(x, -1, true);
  const Tensor variance = tg::mean((x - mean) * (x - mean), -1, true);  // biased, as the module's
  return (x - mean) / tg::sqrt(variance + eps) * norm.weight + norm.bias;
}
// [/tutorial:layer_norm]

// [tutorial:encoder_layer]
// The encoder layer of Vaswani et al. (PyTorch's default, post-norm, dropout
// off): attention, then a position-wise feed-forward network, each added to
// its input (the residual) and normalised.
//   x = norm1(x + attention(x));  x = norm2(x + linear2(relu(linear1(x))))
Tensor encoder_layer(const tg::nn::TransformerEncoderLayer& layer, const Tensor& x, bool causal,
                     Tensor* weights = nullptr) {
  const Attended attended = multi_head(layer.self_attn, x, causal);
  if (weights != nullptr) *weights = attended.weights;
  const Tensor h = layer_norm(x + attended.output, layer.norm1);
  return layer_norm(h + layer.linear2(tg::relu(layer.linear1(h))), layer.norm2);
}
// [/tutorial:encoder_layer]

// The gradients of Σ y ⊙ probe with respect to `leaves` (undefined where none reached), cleared after reading.
std::vector<Tensor> gradients(const Tensor& y, const Tensor& probe, const std::vector<Tensor>& leaves) {
  tg::sum(y * probe).backward();
  std::vector<Tensor> grads;
  for (const Tensor& leaf : leaves) {
    grads.push_back(leaf.grad());
    leaf.set_grad(Tensor());
  }
  return grads;
}

double worst_of(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, a[i].defined() && b[i].defined() ? max_abs_diff(a[i], b[i]) : INFINITY);
  return worst;
}

void check_attention(tg::Generator& gen) {
  const int64_t N = 2, L = 5, E = 8, H = 2;
  const tg::TensorOptions f64{.dtype = tg::DType::f64};
  tg::nn::MultiheadAttention mha(E, H, {.batch_first = true, .dtype = tg::DType::f64}, gen);
  const Tensor x = tg::randn({N, L, E}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  std::vector<Tensor> leaves{x};
  for (const Tensor& p : mha.parameters()) leaves.push_back(p);
  for (bool causal : {false, true}) {
    const Attended ours = multi_head(mha, x, causal);
    const tg::nn::MultiheadAttentionOutput library =
        mha(x, x, x, {.need_weights = true, .average_attn_weights = false, .is_causal = causal});
    const Tensor probe = tg::randn(library.output.shape(), f64, gen);
    const double values = std::max(max_abs_diff(ours.output, library.output), max_abs_diff(ours.weights, library.weights));
    const double grads = worst_of(gradients(ours.output, probe, leaves), gradients(library.output, probe, leaves));
    expect(values < 1e-12 && grads < 1e-12,
           fmt::format("multi-head attention from ops{}: outputs and per-head weights within {:.1e}, gradients of x and "
                       "the four parameters within {:.1e} of nn::MultiheadAttention",
                       causal ? ", causal" : "", values, grads));
    if (causal) {
      const std::vector<double> w = ours.weights.to_vector<double>();  // (N, H, L, L)
      double future = 0;
      for (int64_t r = 0; r < N * H; ++r)
        for (int64_t i = 0; i < L; ++i)
          for (int64_t j = i + 1; j < L; ++j) future = std::max(future, w[static_cast<size_t>((r * L + i) * L + j)]);
      expect(future == 0, fmt::format("causal: every weight on a later position is exactly 0 (largest {})", future));
    }
  }

  // [tutorial:off_the_tape]
  // Join the heads through a copy the tape does not see (here: detach) and
  // the forward pass is unchanged, but nothing before the copy learns.
  const int64_t D = E / H;
  const Tensor qkv = tg::matmul(x, tg::transpose(mha.in_proj_weight, 0, 1)) + mha.in_proj_bias;
  const std::vector<Tensor> parts = tg::split(qkv, E, 2);
  auto by_head = [&](const Tensor& t) { return tg::transpose(tg::reshape(t, {N, L, H, D}), 1, 2); };
  const Tensor heads = scaled_dot_product(by_head(parts[0]), by_head(parts[1]), by_head(parts[2]), false).output;
  const Tensor cut = tg::reshape(tg::transpose(heads, 1, 2).detach(), {N, L, E});
  const Tensor output = mha.out_proj(cut);
  tg::sum(output).backward();
  const bool in_proj_learns = mha.in_proj_weight.grad().defined(), out_proj_learns = mha.out_proj.weight.grad().defined();
  // [/tutorial:off_the_tape]
  expect(max_abs_diff(output, multi_head(mha, x, false).output) == 0 && !in_proj_learns && out_proj_learns,
         fmt::format("a copy off the tape: the same output, but in_proj_weight gets {} gradient and x {}",
                     in_proj_learns ? "a" : "no", x.grad().defined() ? "one" : "none"));
  mha.zero_grad();
  x.set_grad(Tensor());
}

void check_layers(tg::Generator& gen) {
  const int64_t N = 2, L = 6, E = 8;
  const tg::TensorOptions f64{.dtype = tg::DType::f64};
  tg::nn::LayerNorm norm(tg::Shape{E}, {.dtype = tg::DType::f64});
  norm.weight.copy_(tg::randn({E}, f64, gen));  // not the defaults 1 and 0, so that they are tested
  norm.bias.copy_(tg::randn({E}, f64, gen));
  const Tensor x = tg::randn({N, L, E}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  const Tensor probe = tg::randn({N, L, E}, f64, gen);
  const std::vector<Tensor> leaves{x, norm.weight, norm.bias};
  const Tensor ours = layer_norm(x, norm), library = norm(x);
  const double ln_values = max_abs_diff(ours, library);
  const double ln_grads = worst_of(gradients(ours, probe, leaves), gradients(library, probe, leaves));
  expect(ln_values < 1e-12 && ln_grads < 1e-12,
         fmt::format("layer norm from ops: values within {:.1e}, gradients within {:.1e} of nn::LayerNorm", ln_values,
                     ln_grads));

  tg::nn::TransformerEncoderLayer layer(E, 2, {.dim_feedforward = 16, .dropout = 0.0, .batch_first = true,
                                               .dtype = tg::DType::f64},
                                        gen);
  std::vector<Tensor> all{x};
  for (const Tensor& p : layer.parameters()) all.push_back(p);
  for (bool causal : {false, true}) {
    const Tensor mine = encoder_layer(layer, x, causal), theirs = layer(x, {.is_causal = causal});
    const double values = max_abs_diff(mine, theirs);
    const double grads = worst_of(gradients(mine, probe, all), gradients(theirs, probe, all));
    expect(values < 1e-12 && grads < 1e-12,
           fmt::format("encoder layer from ops{}: values within {:.1e}, gradients of x and all {} parameters within "
                       "{:.1e} of nn::TransformerEncoderLayer",
                       causal ? ", causal" : "", values, all.size() - 1, grads));
  }
}

// ---- a tiny character GPT from the functions above ----

const std::string kText =
    "the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat and a log. ";

// [tutorial:gpt]
// tokens (B, T) -> logits (B, T, V): token and position embeddings, causal
// encoder layers from ops, the output through the token embedding (tied).
struct TinyGpt : tg::nn::Module {
  tg::nn::Embedding token, position;
  tg::nn::ModuleListOf<tg::nn::TransformerEncoderLayer> blocks;

  TinyGpt(int64_t vocab, int64_t context, int64_t d, int64_t heads, int layers, tg::Generator& gen)
      : token(vocab, d, gen), position(context, d, gen) {
    for (int i = 0; i < layers; ++i)  // the modules hold the parameters; encoder_layer is the forward
      blocks.push_back(d, heads, tg::nn::TransformerLayerOptions{.dim_feedforward = 4 * d, .dropout = 0.0,
                                                                 .batch_first = true},
                       gen);
    // GPT-2's initialisation of the embeddings, N(0, 0.02²): the tied logits start near 0, the loss near ln V.
    for (const tg::nn::Embedding* e : {&token, &position})
      e->weight.copy_(tg::normal(e->weight.shape(), 0.0, 0.02, {}, gen));
    register_module("token", token);
    register_module("position", position);
    register_module("blocks", blocks);
  }

  // `weights`, when given, receives each layer's attention weights (B, H, T, T).
  Tensor forward(const Tensor& tokens, std::vector<Tensor>* weights = nullptr) const {
    Tensor h = token(tokens) + position(tg::arange(tokens.size(1)));  // (B, T, d)
    for (const tg::nn::TransformerEncoderLayer& block : blocks) {
      Tensor w;
      h = encoder_layer(block, h, /*causal=*/true, &w);
      if (weights != nullptr) weights->push_back(w);
    }
    return tg::matmul(h, tg::transpose(token.weight, 0, 1));
  }
};
// [/tutorial:gpt]

void train_gpt() {
  tg::Generator gen(0);
  std::string alphabet;
  std::vector<int64_t> ids;
  for (const char c : kText) {
    if (alphabet.find(c) == std::string::npos) alphabet += c;
    ids.push_back(static_cast<int64_t>(alphabet.find(c)));
  }
  const int64_t V = static_cast<int64_t>(alphabet.size()), T = 32, B = 16, n = static_cast<int64_t>(ids.size());
  TinyGpt model(V, T, 48, 4, 2, gen);
  tg::optim::Adam adam(model.parameters(), {.lr = 3e-3});
  // [tutorial:gpt_train]
  // Windows of the text: the inputs, and the same shifted by one (the next characters).
  auto batch = [&](int64_t step) {
    std::vector<int64_t> x, y;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t start = (step * 7 + b * 11) % (n - T - 1);
      x.insert(x.end(), ids.begin() + start, ids.begin() + start + T);
      y.insert(y.end(), ids.begin() + start + 1, ids.begin() + start + T + 1);
    }
    return std::pair{tg::from_vector(x, {B, T}, {tg::DType::i64}), tg::from_vector(y, {B * T}, {tg::DType::i64})};
  };
  double first = 0, last = 0;
  for (int64_t step = 0; step < 200; ++step) {
    const auto [x, y] = batch(step);
    const Tensor loss = tg::cross_entropy(tg::reshape(model.forward(x), {B * T, V}), y);
    loss.backward();
    adam.step();
    adam.zero_grad();
    (step == 0 ? first : last) = loss.item();
    if (step % 50 == 0) fmt::print("step {:3}  loss {:.4f}\n", step, loss.item());
  }
  // [/tutorial:gpt_train]
  tg::NoGrad no_grad;
  const auto [x, y] = batch(0);
  const std::vector<int64_t> predicted = tg::argmax(tg::reshape(model.forward(x), {B * T, V}), 1).to_vector<int64_t>();
  const std::vector<int64_t> truth = y.to_vector<int64_t>();
  int64_t right = 0;
  for (size_t i = 0; i < truth.size(); ++i) right += predicted[i] == truth[i];
  const double accuracy = static_cast<double>(right) / static_cast<double>(truth.size());
  fmt::print("loss {:.4f} -> {:.4f}; next-character accuracy {:.3f}\n", first, last, accuracy);
  expect(last < 0.25 * first && accuracy > 0.8,
         fmt::format("the GPT learns the text: loss to under a quarter ({:.3f} of the first), more than 80% of next "
                     "characters right ({:.1f}%)",
                     last / first, 100 * accuracy));

  // [tutorial:maps]
  // The last layer's attention on one sentence, one picture per head: row i
  // is where position i looks (only left, by the causal mask).
  const std::string sentence = "the dog sat on the log.";
  std::vector<int64_t> sentence_ids;
  std::vector<std::string> labels;
  for (const char c : sentence) {
    sentence_ids.push_back(static_cast<int64_t>(alphabet.find(c)));
    labels.push_back(c == ' ' ? "_" : std::string(1, c));
  }
  const int64_t S = static_cast<int64_t>(sentence_ids.size());
  std::vector<Tensor> weights;
  model.forward(tg::from_vector(sentence_ids, {1, S}, {tg::DType::i64}), &weights);
  const Tensor last_layer = tg::reshape(weights.back(), {4, S, S});  // (H, S, S)
  for (int64_t h = 0; h < 4; ++h)
    tg::write_text_file(fmt::format("gpt_attention_head{}.svg", h),
                        tg::plot::matrix_svg(labels, labels, tg::select(last_layer, 0, h),
                                             fmt::format("Layer 2, head {}: row = position, column = what it reads", h),
                                             "weight"));
  // [/tutorial:maps]
  // Where each head looks, on average: how far back its largest weight lies.
  const std::vector<double> w = last_layer.to_vector<double>();
  for (int64_t h = 0; h < 4; ++h) {
    double distance = 0;
    for (int64_t i = 0; i < S; ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j <= i; ++j)
        if (w[static_cast<size_t>((h * S + i) * S + j)] > w[static_cast<size_t>((h * S + i) * S + best)]) best = j;
      distance += static_cast<double>(i - best);
    }
    fmt::print("head {}: its largest weight lies {:.1f} characters back on average\n", h,
               distance / static_cast<double>(S));
  }
  fmt::print("wrote gpt_attention_head0.svg .. gpt_attention_head3.svg\n");
}

}  // namespace

int main() {
  tg::Generator gen(8);
  check_attention(gen);
  check_layers(gen);
  train_gpt();
  return tutorial::exit_status();
}
