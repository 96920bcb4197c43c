// classifier: a sequence classifier written as a user would, with the public
// helpers only. Each sequence holds one A and one B among filler tokens, with a
// random length; the label says whether A comes before B, so the model must
// look at the whole sequence, in both directions.
//
//   tokens (B, T) int64, lengths (B)
//   embed                   -> x (B, T, E)
//   bidirectional GRU       -> states (B, T, 2H), zero after each length
//   attention pooling       -> pooled (B, 2H): softmax over the valid steps of states · query
//   Linear, softsign, Linear -> logits (B, 2)
//
// softsign is a custom op written here with raw loops (tg::visit_float, data<T>(op),
// tg::record) and checked with tg::gradcheck before training. The model comes
// from a factory function as a std::unique_ptr (modules cannot move).
// With --checkpoint it saves the trained model, loads it into a fresh one and
// compares their predictions. Exits 1 when the gradient check fails, held-out
// accuracy is below --min-accuracy, or the reloaded model predicts differently.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad_kernels.h>  // tg::visit_float, for the custom op below

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

// ---- a custom op ----

// y = x / (1 + |x|);  dx += dy / (1 + |x|)²
tg::Tensor softsign(const tg::Tensor& x) {
  const tg::Tensor xc = tg::contiguous_values(x);  // row-major: data<T>() holds numel() values in order
  tg::Tensor y = tg::Tensor::empty(x.shape(), {.dtype = x.dtype()});
  tg::visit_float(x.dtype(), "softsign", [&]<typename T>() {
    const T* in = xc.data<T>("softsign");
    T* out = y.data<T>("softsign");
    for (int64_t i = 0; i < xc.numel(); ++i) out[i] = in[i] / (1 + std::abs(in[i]));
  });
  const tg::Saved x_saved = tg::save_if(x.requires_grad(), "x", xc);  // what the derivative reads
  tg::record("softsign", {&x}, y, {x_saved}, [dx_slot = tg::slot_of(x), x_saved](const tg::Tensor& dy) {
    const tg::Tensor& xc = x_saved.get();
    const tg::Tensor dyc = tg::contiguous_values(dy);
    tg::Tensor dx = tg::Tensor::empty(xc.shape(), {.dtype = xc.dtype()});
    tg::visit_float(xc.dtype(), "softsign", [&]<typename T>() {
      const T *in = xc.data<T>("softsign"), *g = dyc.data<T>("softsign");
      T* d = dx.data<T>("softsign");
      for (int64_t i = 0; i < xc.numel(); ++i) {
        const T s = 1 + std::abs(in[i]);
        d[i] = g[i] / (s * s);
      }
    });
    tg::accumulate_grad(*dx_slot, dx);  // backward accumulates, into x's gradient (not its copy xc's)
  });
  return y;
}

// The op as a layer for nn::Sequential.
struct Softsign : tg::nn::Module {
  tg::Tensor forward(const tg::Tensor& x) const { return softsign(x); }
  std::string type_name() const override { return "Softsign"; }
};

// Finite differences against the backward above, in float64, on a plain and
// on a transposed (non-contiguous) input.
bool check_softsign() {
  tg::Generator gen(11);
  const tg::Tensor x = tg::randn({3, 4}, {.dtype = tg::DType::f64}, gen).requires_grad_();
  const auto plain = tg::gradcheck([](const std::vector<tg::Tensor>& in) { return softsign(in[0]); }, {x});
  const auto strided = tg::gradcheck(
      [](const std::vector<tg::Tensor>& in) { return softsign(tg::transpose(in[0], 0, 1)); }, {x});
  fmt::print("gradcheck softsign: {} (max error {:.1e}), transposed input: {}\n", plain.ok ? "ok" : plain.message,
             plain.max_abs_error, strided.ok ? "ok" : strided.message);
  return plain.ok && strided.ok;
}

// ---- the data ----

constexpr int64_t pad = 0, token_a = 1, token_b = 2, first_filler = 3;

struct Batch {
  tg::Tensor tokens;   // (B, T) int64, pad after each length
  tg::Tensor lengths;  // (B) int64 in [min_len, T]
  tg::Tensor labels;   // (B) int64: 1 when A comes before B
};

Batch make_batch(int64_t batch, int64_t min_len, int64_t max_len, int64_t vocab, tg::Generator& gen) {
  std::vector<int64_t> tokens(batch * max_len, pad), lengths(batch), labels(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = min_len + static_cast<int64_t>(gen.below(max_len - min_len + 1));
    int64_t* row = tokens.data() + b * max_len;
    for (int64_t t = 0; t < len; ++t) row[t] = first_filler + static_cast<int64_t>(gen.below(vocab - first_filler));
    const int64_t a = static_cast<int64_t>(gen.below(len));
    int64_t b_pos = static_cast<int64_t>(gen.below(len - 1));
    if (b_pos >= a) ++b_pos;  // a different position
    row[a] = token_a;
    row[b_pos] = token_b;
    lengths[b] = len;
    labels[b] = a < b_pos ? 1 : 0;
  }
  return {tg::index_tensor(tokens, {batch, max_len}), tg::index_tensor(lengths), tg::index_tensor(labels)};
}

// ---- the model ----

struct ClassifierOptions {
  int64_t vocab = 10;
  int64_t embed_dim = 16;
  int64_t hidden = 16;
};

class SequenceClassifier : public tg::nn::Module {
 public:
  SequenceClassifier(const ClassifierOptions& o, tg::Generator& gen)
      : embed(o.vocab, o.embed_dim, pad, tg::DType::f32, gen),
        gru(o.embed_dim, o.hidden, {.bidirectional = true, .batch_first = true}, gen) {
    const int64_t d = 2 * o.hidden;  // both directions
    query = tg::randn({1, d, 1}, {}, gen) * (1.0 / std::sqrt(static_cast<double>(d)));
    head.push_back<tg::nn::Linear>(d, o.hidden, gen);
    head.push_back<Softsign>();
    head.push_back<tg::nn::Linear>(o.hidden, 2, gen);
    register_module("embed", embed);
    register_module("gru", gru);
    register_parameter("query", query);
    register_module("head", head);
  }

  // tokens (B, T) int64, lengths (B) -> logits (B, 2)
  tg::Tensor forward(const tg::Tensor& tokens, const tg::Tensor& lengths) const {
    const tg::Tensor states = gru(embed(tokens), {}, lengths).output;  // (B, T, 2H)
    const int64_t batch = states.size(0), steps = states.size(1), d = states.size(2);
    // One learned query for every sequence: (1, 2H, 1) seen as (B, 2H, 1), no copy.
    const tg::Tensor scores = tg::reshape(tg::matmul(states, tg::expand(query, {batch, d, 1})), {batch, steps});
    const tg::Tensor padding = tg::logical_not(tg::sequence_mask(lengths, steps));  // (B, T) bool
    const tg::Tensor weights =
        tg::softmax(tg::masked_fill(scores, padding, -std::numeric_limits<double>::infinity()), -1);
    const tg::Tensor pooled = tg::reshape(tg::matmul(tg::unsqueeze(weights, 1), states), {batch, d});
    return head(pooled);
  }
  std::string type_name() const override { return "SequenceClassifier"; }

  tg::nn::Embedding embed;
  tg::nn::GRU gru;
  tg::Tensor query;  // (1, 2H, 1)
  tg::nn::Sequential head;
};

// Modules can be neither copied nor moved: a factory returns a unique_ptr.
std::unique_ptr<SequenceClassifier> make_classifier(const ClassifierOptions& options, uint64_t seed) {
  tg::Generator gen(seed);
  return std::make_unique<SequenceClassifier>(options, gen);
}

// ---- training and evaluation ----

struct TrainOptions {
  int steps = 300;
  int64_t batch = 32, min_len = 3, max_len = 12;
  double lr = 0.01;
  int print_every = 50;
};

void train(SequenceClassifier& model, const TrainOptions& o, int64_t vocab, tg::Generator& data_gen) {
  tg::optim::Adam adam(model.named_parameters(), {.lr = o.lr});
  for (int step = 1; step <= o.steps; ++step) {
    const Batch batch = make_batch(o.batch, o.min_len, o.max_len, vocab, data_gen);
    const tg::Tensor loss = tg::cross_entropy(model.forward(batch.tokens, batch.lengths), batch.labels);
    loss.backward();
    adam.step();
    adam.zero_grad();
    if (step % o.print_every == 0 || step == o.steps) fmt::print("step {:4d}  loss {:.4f}\n", step, loss.item());
    std::fflush(stdout);
  }
}

double accuracy(const SequenceClassifier& model, const Batch& held_out) {
  tg::NoGrad no_grad;
  const std::vector<int64_t> predicted = tg::argmax(model.forward(held_out.tokens, held_out.lengths), 1)
                                             .to_vector<int64_t>();
  const std::vector<int64_t> labels = held_out.labels.to_vector<int64_t>();
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

// Saves the model to `path`, loads the file into a fresh factory-made model
// (other seed, other weights) and checks that both predict the same logits.
bool reload_matches(const SequenceClassifier& model, const ClassifierOptions& options, const std::string& path,
                    const Batch& held_out) {
  tg::nn::save(model, path);
  std::unique_ptr<SequenceClassifier> fresh = make_classifier(options, 12345);
  tg::nn::load(*fresh, path);
  tg::NoGrad no_grad;
  const bool same = fresh->forward(held_out.tokens, held_out.lengths).to_vector<float>() ==
                    model.forward(held_out.tokens, held_out.lengths).to_vector<float>();
  fmt::print("saved to {} and reloaded into a fresh model: {}\n", path, same ? "same predictions" : "DIFFERENT");
  return same;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Embedding, bidirectional GRU, masked attention pooling and a custom op learn whether A precedes B."};
  TrainOptions train_options;
  ClassifierOptions model_options;
  uint64_t seed = 0;
  double min_accuracy = 0.9;
  std::string checkpoint;
  app.add_option("--steps", train_options.steps, "training steps")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--batch", train_options.batch, "sequences per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--lr", train_options.lr, "Adam learning rate")
      ->capture_default_str()
      ->check(CLI::Range(1e-8, 10.0));
  app.add_option("--hidden", model_options.hidden, "GRU hidden size per direction")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--seed", seed, "seed of the weights and the data")->capture_default_str();
  app.add_option("--min-accuracy", min_accuracy, "exit 1 below this held-out accuracy")->capture_default_str();
  app.add_option("--checkpoint", checkpoint, "save the trained model here, reload it into a fresh one and compare");
  CLI11_PARSE(app, argc, argv);

  try {
    if (!check_softsign()) return 1;
    std::unique_ptr<SequenceClassifier> model = make_classifier(model_options, seed);
    fmt::print("{}", model->summary());
    tg::Generator data_gen(seed + 1);
    train(*model, train_options, model_options.vocab, data_gen);
    const Batch held_out =
        make_batch(1000, train_options.min_len, train_options.max_len, model_options.vocab, data_gen);
    const double acc = accuracy(*model, held_out);
    fmt::print("held-out accuracy {:.1f}% on {} sequences\n", 100 * acc, held_out.labels.numel());
    if (acc < min_accuracy) {
      fmt::print(stderr, "classifier: accuracy {:.3f} is below {:.3f}\n", acc, min_accuracy);
      return 1;
    }
    if (!checkpoint.empty() && !reload_matches(*model, model_options, checkpoint, held_out)) return 1;
    return 0;
  } catch (const tg::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
