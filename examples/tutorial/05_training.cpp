// Chapter 5 of the tutorial (docs/tutorial/05-training.md): the training loop
// of a small encoder–decoder on a made-up corpus of twelve sentence pairs:
// bucketed, padded batches; teacher forcing; cross entropy with padding
// ignored; gradient clipping; Adam written out by hand beside optim::Adam;
// a checkpoint and an exact resume. float64 throughout. Exits 1 if the padded
// batch's loss is not its sentences' losses, clipping leaves a larger norm,
// Adam by hand differs from optim::Adam by more than 1e-12, the resumed run
// is not bit for bit the straight one, or the loss does not fall.
#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

std::vector<std::string> words(const std::string& sentence) {
  std::istringstream in(sentence);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// [tutorial:model]
// A small encoder–decoder (Cho et al. 2014, without attention): the encoder's
// state after each sentence's last token starts the decoder.
struct Translator : tg::nn::Module {
  tg::nn::Embedding src_embed, tgt_embed;  // (V, E), row <pad> kept at zero
  tg::nn::Dropout dropout;
  tg::nn::GRU encoder, decoder;            // E -> H
  tg::nn::Linear out;                      // H -> target vocabulary

  Translator(int64_t src_vocab, int64_t tgt_vocab, int64_t E, int64_t H, tg::Generator& gen)
      : src_embed(src_vocab, E, tg::text::Vocab::pad_id, tg::DType::f64, gen),
        tgt_embed(tgt_vocab, E, tg::text::Vocab::pad_id, tg::DType::f64, gen),
        dropout(0.1),
        encoder(E, H, {}, tg::DType::f64, gen),
        decoder(E, H, {}, tg::DType::f64, gen),
        out(H, tgt_vocab, {.dtype = tg::DType::f64}, gen) {
    register_module("src_embed", src_embed);
    register_module("tgt_embed", tgt_embed);
    register_module("dropout", dropout);
    register_module("encoder", encoder);
    register_module("decoder", decoder);
    register_module("out", out);
  }

  // Teacher forcing: the decoder reads the reference tgt_in = <bos> y1 .. yn,
  // not its own guesses, and step t is scored on predicting tgt_out[t] = y_{t+1}.
  tg::Tensor forward(const tg::text::Batch& batch) const {
    const tg::Tensor source = dropout(src_embed(batch.src));                      // (S, B, E)
    const tg::Tensor state = encoder(source, {}, batch.src_lengths).h_n;         // (1, B, H)
    const tg::Tensor target = dropout(tgt_embed(batch.tgt_in));                   // (T, B, E)
    return out(decoder(target, state).output);                                    // (T, B, V)
  }
};
// [/tutorial:model]

// [tutorial:loss]
// Cross entropy per target token: logits (T, B, V) -> (T·B, V) against
// tgt_out (T, B) -> (T·B); positions holding <pad> add nothing and are not
// counted, so mean = (sum over real tokens) / batch.num_tgt_tokens.
tg::Tensor batch_loss(const Translator& model, const tg::text::Batch& batch,
                      tg::Reduction reduction = tg::Reduction::mean) {
  const tg::Tensor logits = tg::flatten(model.forward(batch), 0, 1);
  return tg::cross_entropy(logits, tg::flatten(batch.tgt_out),
                           {.ignore_index = tg::text::Vocab::pad_id, .reduction = reduction});
}
// [/tutorial:loss]

// [tutorial:batch-of-step]
// The batch of global step `step`. Epoch e's plan depends only on (seed, e),
// so a resumed run finds its batch without replaying the steps before it.
tg::text::Batch batch_of_step(const std::vector<tg::text::Example>& examples, const tg::text::BatchOptions& options,
                              int64_t step) {
  for (uint64_t epoch = 0;; ++epoch) {
    const std::vector<std::vector<int64_t>> plan = tg::text::plan_epoch(examples, options, epoch);
    if (step < static_cast<int64_t>(plan.size())) return tg::text::make_batch(examples, plan[step]);
    step -= static_cast<int64_t>(plan.size());
  }
}
// [/tutorial:batch-of-step]

// [tutorial:adam]
// Adam written out (optim/adam.h has the same formulas), t = state.step:
//   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
//   p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
// An Optimizer subclass only writes update(); step() calls it for every
// parameter that has a gradient, under NoGrad, with state.step already counted.
class AdamByHand : public tg::optim::Optimizer {
 public:
  AdamByHand(std::vector<std::pair<std::string, tg::Tensor>> params, tg::optim::AdamOptions options)
      : Optimizer(std::move(params), options.lr, "AdamByHand"), o_(options) {}
  std::string type_name() const override { return "AdamByHand"; }

 protected:
  void update(const tg::Tensor& param, const tg::Tensor& grad, tg::optim::ParamState& state) override {
    if (state.buffers.empty())
      for (const char* name : {"exp_avg", "exp_avg_sq"}) state.buffers[name] = tg::zeros(param.shape(), {.dtype = tg::DType::f64});
    const tg::Tensor g_contiguous = grad.contiguous();
    const double* g = g_contiguous.data<double>("AdamByHand");
    double* p = param.data<double>("AdamByHand");
    double* m = state.buffers["exp_avg"].data<double>("AdamByHand");
    double* v = state.buffers["exp_avg_sq"].data<double>("AdamByHand");
    const double t = static_cast<double>(state.step);
    const double step_size = lr() / (1 - std::pow(o_.beta1, t)), sqrt_bias2 = std::sqrt(1 - std::pow(o_.beta2, t));
    for (int64_t i = 0; i < param.numel(); ++i) {
      m[i] = o_.beta1 * m[i] + (1 - o_.beta1) * g[i];
      v[i] = o_.beta2 * v[i] + (1 - o_.beta2) * (g[i] * g[i]);
      p[i] -= m[i] / (std::sqrt(v[i]) / sqrt_bias2 + o_.eps) * step_size;
    }
  }
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }

 private:
  tg::optim::AdamOptions o_;
};
// [/tutorial:adam]

// [tutorial:step]
constexpr double max_grad_norm = 0.25;  // small for this tiny corpus; translate uses 1

// One optimizer step on the batch of global step `step`; returns the loss.
double train_step(Translator& model, tg::optim::Optimizer& optimizer, const std::vector<tg::text::Example>& examples,
                  const tg::text::BatchOptions& batching, int64_t step) {
  model.reseed(static_cast<uint64_t>(step));  // dropout masks from the step number, resumed or not
  const tg::Tensor loss = batch_loss(model, batch_of_step(examples, batching, step));
  loss.backward();                                          // fills every parameter's grad()
  tg::optim::clip_grad_norm(model.parameters(), max_grad_norm);  // rescaled if their joint norm is larger
  optimizer.step();                                         // the update, under NoGrad
  optimizer.zero_grad();                                    // the next backward starts from zero
  return loss.item();
}
// [/tutorial:step]

// Steps [first, last) of a run; their losses.
std::vector<double> train(Translator& model, tg::optim::Optimizer& optimizer,
                          const std::vector<tg::text::Example>& examples, const tg::text::BatchOptions& batching,
                          int64_t first, int64_t last) {
  std::vector<double> losses;
  for (int64_t step = first; step < last; ++step) losses.push_back(train_step(model, optimizer, examples, batching, step));
  return losses;
}

double max_abs_diff(const tg::nn::Module& a, const tg::nn::Module& b) {
  double worst = 0;
  const std::vector<tg::Tensor> pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    const std::vector<double> x = pa[i].to_vector<double>(), y = pb[i].to_vector<double>();
    for (size_t k = 0; k < x.size(); ++k) worst = std::max(worst, std::abs(x[k] - y[k]));
  }
  return worst;
}

int main() {
  // [tutorial:corpus]
  const std::vector<std::pair<std::string, std::string>> pairs{
      {"ein hund läuft", "a dog runs"},
      {"eine katze schläft", "a cat sleeps"},
      {"der mann liest ein buch", "the man reads a book"},
      {"die frau trinkt kaffee", "the woman drinks coffee"},
      {"zwei hunde spielen im schnee", "two dogs play in the snow"},
      {"ein kind lacht", "a child laughs"},
      {"der hund schläft", "the dog sleeps"},
      {"die katze läuft", "the cat runs"},
      {"ein mann trinkt wasser", "a man drinks water"},
      {"zwei kinder spielen", "two children play"},
      {"die frau liest", "the woman reads"},
      {"ein mann fährt fahrrad auf der straße", "a man rides a bike on the street"},
  };
  std::vector<std::vector<std::string>> sources, targets;
  for (const auto& [de, en] : pairs) {
    sources.push_back(words(de));
    targets.push_back(words(en));
  }
  // Ids 0-3 are <pad> <bos> <eos> <unk>; min_freq 1 keeps every word.
  const tg::text::Vocab src_vocab = tg::text::Vocab::build(sources, 1), tgt_vocab = tg::text::Vocab::build(targets, 1);
  const std::vector<tg::text::Example> examples = tg::text::encode_pairs(sources, targets, src_vocab, tgt_vocab);
  // [/tutorial:corpus]

  // [tutorial:batches]
  const tg::text::BatchOptions batching{.batch_size = 4, .bucket = true, .seed = 1};
  const tg::text::BatchOptions unbucketed{.batch_size = 4, .bucket = false, .seed = 1};
  fmt::print("padding: {:.0f}% of the batch positions in shuffled batches, {:.0f}% bucketed by length\n",
             100 * tg::text::padding_fraction(examples, tg::text::plan_epoch(examples, unbucketed, 0)),
             100 * tg::text::padding_fraction(examples, tg::text::plan_epoch(examples, batching, 0)));
  // make_batch pads every sentence to the longest; show three of 3, 5 and 8 words.
  const tg::text::Batch batch = tg::text::make_batch(examples, {0, 4, 11});
  fmt::print("a batch: src {} (S, B), tgt_in and tgt_out {} (T, B), {} target tokens that count\n",
             batch.src.shape().str(), batch.tgt_in.shape().str(), batch.num_tgt_tokens);
  const std::vector<int64_t> tgt_in = batch.tgt_in.to_vector<int64_t>(), tgt_out = batch.tgt_out.to_vector<int64_t>();
  for (int64_t b = 0; b < batch.size(); ++b) {
    std::string in_words, out_words;
    for (int64_t t = 0; t < batch.tgt_in.size(0); ++t) {  // (T, B) row-major: element t * B + b
      in_words += fmt::format("{:>7}", tgt_vocab.token(tgt_in[t * batch.size() + b]));
      out_words += fmt::format("{:>7}", tgt_vocab.token(tgt_out[t * batch.size() + b]));
    }
    fmt::print("  tgt_in  {}\n  tgt_out {}\n", in_words, out_words);
  }
  // [/tutorial:batches]

  // [tutorial:make-model]
  const int64_t E = 16, H = 32, N = 30, M = 30;  // embedding and state sizes; steps before and after the stop
  const tg::optim::AdamOptions adam_options{.lr = 1e-2};
  tg::Generator gen(5);
  Translator model(src_vocab.size(), tgt_vocab.size(), E, H, gen);
  fmt::print("vocabularies: {} German ids, {} English ids; the model has {} parameters\n", src_vocab.size(),
             tgt_vocab.size(), model.parameter_count());
  // [/tutorial:make-model]

  // [tutorial:padding]
  // Padding ignored: the padded batch's summed loss equals the sum of its
  // sentences' losses each computed alone, without any padding.
  double together = 0, alone = 0;
  {
    tg::NoGrad no_grad;
    model.eval();  // no dropout, so both see the same numbers
    together = batch_loss(model, batch, tg::Reduction::sum).item();
    for (int64_t i : batch.indices) alone += batch_loss(model, tg::text::make_batch(examples, {i}), tg::Reduction::sum).item();
    model.train();
  }
  fmt::print("summed loss: padded batch {:.12f}, its sentences alone {:.12f}\n", together, alone);
  // [/tutorial:padding]

  // [tutorial:clipping]
  batch_loss(model, batch).backward();
  const double norm_before = tg::optim::clip_grad_norm(model.parameters(), max_grad_norm);
  double squares = 0;
  for (const tg::Tensor& p : model.parameters()) squares += tg::sum(p.grad() * p.grad()).item();
  const double norm_after = std::sqrt(squares);
  model.zero_grad();
  fmt::print("gradient norm {:.4f} before clipping to {}, {:.4f} after\n", norm_before, max_grad_norm, norm_after);
  // [/tutorial:clipping]

  // [tutorial:adam-check]
  // Two copies of the model from the same seed, one trained with optim::Adam,
  // one with AdamByHand, on the same N + M batches.
  tg::Generator gen_a(5), gen_b(5);
  Translator with_library(src_vocab.size(), tgt_vocab.size(), E, H, gen_a);
  Translator with_hand(src_vocab.size(), tgt_vocab.size(), E, H, gen_b);
  tg::optim::Adam library_adam(with_library.named_parameters(), adam_options);
  AdamByHand hand_adam(with_hand.named_parameters(), adam_options);
  const std::vector<double> losses = train(with_library, library_adam, examples, batching, 0, N + M);
  train(with_hand, hand_adam, examples, batching, 0, N + M);
  const double adam_diff = max_abs_diff(with_library, with_hand);
  for (int64_t step = 0; step < N + M; step += 10) fmt::print("step {:2d}  loss {:.4f}\n", step, losses[step]);
  fmt::print("step {:2d}  loss {:.4f}\n", N + M - 1, losses.back());
  fmt::print("after {} steps, parameters of optim::Adam and AdamByHand differ by at most {:.1e}\n", N + M, adam_diff);
  // [/tutorial:adam-check]

  // [tutorial:resume]
  // N steps, a checkpoint, then fresh objects (another seed: load must replace
  // everything), loaded, and M more steps; against the straight run above.
  const std::string path = "tutorial_05_checkpoint.safetensors";
  {
    tg::Generator gen_c(5);
    Translator before(src_vocab.size(), tgt_vocab.size(), E, H, gen_c);
    tg::optim::Adam adam(before.named_parameters(), adam_options);
    train(before, adam, examples, batching, 0, N);
    tg::train::save(before, adam, path, {{"step", std::to_string(N)}});
  }
  tg::Generator other_seed(99);
  Translator resumed(src_vocab.size(), tgt_vocab.size(), E, H, other_seed);
  tg::optim::Adam resumed_adam(resumed.named_parameters(), adam_options);
  const int64_t saved_step = std::stoll(tg::train::load(resumed, resumed_adam, path).at("step"));
  const std::vector<double> resumed_losses = train(resumed, resumed_adam, examples, batching, saved_step, N + M);
  const bool same_losses = std::equal(resumed_losses.begin(), resumed_losses.end(), losses.begin() + N);
  const bool same_parameters = max_abs_diff(resumed, with_library) == 0.0;
  fmt::print("resumed at step {}: last {} losses {} and parameters {} to the straight run's\n", saved_step, M,
             same_losses ? "identical" : "DIFFERENT", same_parameters ? "identical" : "DIFFERENT");
  // [/tutorial:resume]

  const bool padding_ignored = std::abs(together - alone) <= 1e-12 * std::abs(alone);
  const bool clipped = norm_before > max_grad_norm && std::abs(norm_after - max_grad_norm) < 1e-6;
  const bool learned = losses.back() < 0.5 * losses.front();
  if (!padding_ignored || !clipped || adam_diff > 1e-12 || !same_losses || !same_parameters || !learned) {
    fmt::print(stderr, "a claim of chapter 5 does not hold (padding {}, clipping {}, Adam {:.1e}, resume {} {}, "
               "learning {})\n", padding_ignored, clipped, adam_diff, same_losses, same_parameters, learned);
    return 1;
  }
  return 0;
}
