// tiny_gpt.cpp: a character GPT written as a PyTorch user writes one, line
// for line: token and position embeddings, pre-norm causal Transformer
// blocks, a final LayerNorm, the output tied to the token embedding, AdamW
// with weight decay on the matrices only. The module is called as model(x)
// (nn::CallableModule), positions come from arange(T) (int64, as
// torch.arange), and the accuracy is `correct / total` on int64 counts (true
// division, as PyTorch's). It learns a short text by heart in a few seconds
// and exits 1 when it fails to (so `meson test` runs it).
#include <fmt/format.h>
#include <tapegrad.h>

#include <string>
#include <vector>

namespace {

using tg::Tensor;

const std::string kText =
    "the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat and a log. ";

struct TinyGPT : tg::nn::CallableModule<TinyGPT> {
  TinyGPT(int64_t vocab, int64_t context, int64_t d, int64_t heads, int layers, tg::Generator& gen)
      : token(vocab, d, gen), position(context, d, gen), norm(tg::Shape{d}) {
    for (int i = 0; i < layers; ++i)
      blocks.push_back(d, heads,
                       tg::nn::TransformerLayerOptions{.dim_feedforward = 4 * d, .dropout = 0.0, .activation = "gelu",
                                                       .batch_first = true, .norm_first = true},
                       gen);
    // GPT-2's initialisation of the embeddings: N(0, 0.02²), so that the tied logits start near zero.
    for (const tg::nn::Embedding* e : {&token, &position})
      e->weight.copy_(tg::normal(e->weight.shape(), 0.0, 0.02, {}, gen));
    register_module("token", token);
    register_module("position", position);
    register_module("blocks", blocks);  // blocks.0..., as nn.ModuleList names them
    register_module("norm", norm);
  }

  // tokens (B, T) int64 -> logits (B, T, V); the output layer is the token embedding, transposed.
  Tensor forward(const Tensor& tokens) const {
    const int64_t T = tokens.size(1);
    Tensor h = token(tokens) + position(tg::arange(T));  // (B, T, d) + (T, d)
    for (const tg::nn::TransformerEncoderLayer& block : blocks) h = block(h, {.is_causal = true});
    return tg::matmul(norm(h), token.weight.transpose(0, 1));
  }

  tg::nn::Embedding token, position;
  tg::nn::ModuleListOf<tg::nn::TransformerEncoderLayer> blocks;
  tg::nn::LayerNorm norm;
};

}  // namespace

int main() {
  tg::Generator gen(0);
  std::string alphabet;
  std::vector<int64_t> ids;
  for (const char c : kText) {
    if (alphabet.find(c) == std::string::npos) alphabet += c;
    ids.push_back(static_cast<int64_t>(alphabet.find(c)));
  }
  const int64_t V = static_cast<int64_t>(alphabet.size()), T = 32, B = 16;
  TinyGPT model(V, T, 48, 4, 2, gen);

  // AdamW with two groups, as GPT recipes do: weight decay on the matrices, none on biases and norms.
  std::vector<std::pair<std::string, Tensor>> decay, no_decay;
  for (const auto& [name, p] : model.named_parameters()) (p.ndim() >= 2 ? decay : no_decay).emplace_back(name, p);
  tg::optim::AdamW optimizer({{decay, std::nullopt, 0.1}, {no_decay, std::nullopt, 0.0}}, {.lr = 3e-3});

  // Windows of the text: inputs and the next characters.
  auto batch = [&](int64_t step) {
    std::vector<int64_t> x, y;
    const int64_t n = static_cast<int64_t>(ids.size());
    for (int64_t b = 0; b < B; ++b) {
      const int64_t start = (step * 7 + b * 11) % (n - T - 1);
      x.insert(x.end(), ids.begin() + start, ids.begin() + start + T);
      y.insert(y.end(), ids.begin() + start + 1, ids.begin() + start + T + 1);
    }
    return std::pair{tg::from_vector(x, {B, T}, {tg::DType::i64}), tg::from_vector(y, {B * T}, {tg::DType::i64})};
  };
  double first = 0, last = 0;
  for (int64_t step = 0; step < 150; ++step) {
    const auto [x, y] = batch(step);
    const Tensor loss = tg::cross_entropy(model(x).reshape({B * T, V}), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (step == 0) first = loss.item();
    last = loss.item();
    if (step % 50 == 0) fmt::print("step {:3}  loss {:.4f}\n", step, loss.item());
  }
  // Next-character accuracy on every window: int64 counts, true division.
  const tg::NoGrad no_grad;
  const auto [x, y] = batch(0);
  const Tensor correct = tg::sum(tg::eq(tg::argmax(model(x).reshape({B * T, V}), -1), y));  // int64
  const Tensor accuracy = correct / (B * T);                                                  // float32
  fmt::print("loss {:.4f} -> {:.4f}; next-character accuracy {:.3f} ({} of {})\n", first, last, accuracy.item(),
             correct.item(), B * T);
  if (!(last < 0.5 * first) || accuracy.item() < 0.8) {
    fmt::print("FAIL: the model did not learn the text\n");
    return 1;
  }
  return 0;
}
