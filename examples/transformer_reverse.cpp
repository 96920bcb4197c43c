// transformer_reverse.cpp: an encoder-decoder Transformer built from
// nn::Transformer learns to reverse sequences of digits (docs/custom_models.md,
// "A Transformer from the blocks"). Embeddings scaled by √d plus sinusoidal
// positions, padding masks where true means "ignore" (PyTorch's
// key_padding_mask), a causal mask on the decoder, greedy decoding that runs
// the decoder again on the tokens so far. It learns in a few seconds and exits
// 1 when fewer than 90% of held-out sequences come back exactly reversed
// (so `meson test` runs it).
#include <fmt/format.h>
#include <tapegrad.h>

#include <cmath>
#include <vector>

namespace {

constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kDigits = 10, kVocab = 3 + kDigits;

class Reverser : public tg::nn::Module {
 public:
  Reverser(int64_t d, tg::Generator& gen)
      : src_embed(kVocab, d, {.padding_idx = kPad}, gen),
        tgt_embed(kVocab, d, {.padding_idx = kPad}, gen),
        transformer({.d_model = d,
                     .nhead = 4,
                     .num_encoder_layers = 2,
                     .num_decoder_layers = 2,
                     .layer = {.dim_feedforward = 2 * d, .dropout = 0.0, .batch_first = true}},
                    gen),
        out(d, kVocab, gen),
        d_(d) {
    register_module("src_embed", src_embed);
    register_module("tgt_embed", tgt_embed);
    register_module("transformer", transformer);
    register_module("out", out);
  }

  // src (N, S), tgt_in (N, T) int64 -> logits (N, T, V)
  tg::Tensor forward(const tg::Tensor& src, const tg::Tensor& tgt_in) const {
    const int64_t T = tgt_in.size(1);
    const tg::Tensor src_pad = tg::eq(src, static_cast<double>(kPad));  // (N, S) true = padding, ignored
    const tg::Tensor h = transformer(embed(src_embed, src), embed(tgt_embed, tgt_in), {.key_padding_mask = src_pad},
                                     {.attn_mask = tg::nn::square_subsequent_mask(T)}, {.key_padding_mask = src_pad});
    return out(h);
  }

  // Greedy: the decoder reads <bos> and what it chose so far, one more token a round.
  std::vector<int64_t> reverse(const std::vector<int64_t>& digits) const {
    const int64_t S = static_cast<int64_t>(digits.size());
    const tg::Tensor src = tg::index_tensor(digits, {1, S});
    std::vector<int64_t> so_far = {kBos};
    for (int64_t t = 0; t <= S; ++t) {
      const tg::Tensor logits = forward(src, tg::index_tensor(so_far, {1, static_cast<int64_t>(so_far.size())}));
      const int64_t next = static_cast<int64_t>(tg::argmax(logits[0][-1], 0).item());
      if (next == kEos) break;
      so_far.push_back(next);
    }
    return {so_far.begin() + 1, so_far.end()};
  }

  tg::nn::Embedding src_embed, tgt_embed;
  tg::nn::Transformer transformer;
  tg::nn::Linear out;

 private:
  // E[tokens]·√d + PE: (N, L) -> (N, L, d)
  tg::Tensor embed(const tg::nn::Embedding& table, const tg::Tensor& tokens) const {
    const int64_t L = tokens.size(1);
    return table(tokens) * std::sqrt(static_cast<double>(d_)) + tg::nn::sinusoidal_positions(L, d_).unsqueeze(0);
  }
  int64_t d_;
};

// A batch of N random digit strings of 3..6, padded: src, decoder input <bos> y, target y <eos>.
struct Batch {
  tg::Tensor src, tgt_in, tgt_out;
  std::vector<std::vector<int64_t>> sequences;
};

Batch random_batch(int64_t n, tg::Generator& gen) {
  constexpr int64_t kLongest = 6;
  Batch b;
  std::vector<int64_t> src, tgt_in, tgt_out;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> digits(3 + gen.below(kLongest - 2));
    for (int64_t& x : digits) x = 3 + static_cast<int64_t>(gen.below(kDigits));
    for (int64_t j = 0; j < kLongest; ++j) src.push_back(j < static_cast<int64_t>(digits.size()) ? digits[j] : kPad);
    const int64_t L = static_cast<int64_t>(digits.size());
    for (int64_t j = 0; j <= kLongest; ++j) {
      tgt_in.push_back(j == 0 ? kBos : j <= L ? digits[L - j] : kPad);
      tgt_out.push_back(j < L ? digits[L - 1 - j] : j == L ? kEos : kPad);
    }
    b.sequences.push_back(digits);
  }
  b.src = tg::index_tensor(src, {n, kLongest});
  b.tgt_in = tg::index_tensor(tgt_in, {n, kLongest + 1});
  b.tgt_out = tg::index_tensor(tgt_out, {n, kLongest + 1});
  return b;
}

}  // namespace

int main() {
  tg::Generator gen(1);
  Reverser model(32, gen);
  fmt::print("{} parameters\n", model.parameter_count());
  tg::optim::Adam adam(model.named_parameters(), {.lr = 3e-3});
  // Warm-up, then a cosine down to 0: at a constant rate the last steps still jump (a loss of 0.21 at step
  // 1,500), and where training ends then depends on the product kernel's rounding (81-100 of 100 over seeds
  // and kernels); annealed, 99-100.
  constexpr int kSteps = 1800, kWarmup = 100;
  tg::optim::CosineAnnealingLR schedule(adam, kSteps - kWarmup, 0.0, kWarmup);
  for (int step = 1; step <= kSteps; ++step) {
    const Batch b = random_batch(32, gen);
    const tg::Tensor logits = model.forward(b.src, b.tgt_in);  // (N, T, V)
    const tg::Tensor loss = tg::cross_entropy(logits.reshape({-1, kVocab}), b.tgt_out.reshape({-1}),
                                              {.ignore_index = kPad});
    adam.zero_grad();
    loss.backward();
    tg::optim::clip_grad_norm(model.parameters(), 1.0);
    adam.step();
    schedule.step();
    if (step % 300 == 0) fmt::print("step {}: loss {:.4f}\n", step, loss.item());
  }
  model.eval();
  tg::NoGrad no_grad;
  const Batch held_out = random_batch(100, gen);
  int correct = 0;
  for (const std::vector<int64_t>& digits : held_out.sequences)
    correct += model.reverse(digits) == std::vector<int64_t>(digits.rbegin(), digits.rend());
  fmt::print("held-out sequences reversed exactly: {} of 100\n", correct);
  return correct >= 90 ? 0 : 1;
}
