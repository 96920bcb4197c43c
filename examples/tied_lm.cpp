// tied_lm.cpp: a character language model whose output layer shares the
// embedding's weight (Press & Wolf 2017), trained with two parameter groups,
// and carrying two buffers: a fixed log-unigram prior added to the logits and
// a count of the tokens it has trained on. It learns a short text by heart in
// about a second, checks that a checkpoint brings back parameters and
// buffers, and exits 1 when it fails to learn (so `meson test` runs it).
#include <fmt/format.h>
#include <tapegrad.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace {

const std::string kText =
    "the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat and a log. ";

class TiedCharLM : public tg::nn::Module {
 public:
  TiedCharLM(int64_t vocab, int64_t dim, const tg::Tensor& unigram_counts, tg::Generator& gen)
      : embed(vocab, dim, {.dtype = tg::DType::f32}, gen),
        gru(dim, dim, {.batch_first = true}, gen),
        out(dim, vocab, gen) {
    out.weight = embed.weight;  // tie: (vocab, dim) both ways; listed once, as "embed.weight"
    log_prior = tg::log(unigram_counts / tg::sum(unigram_counts).item());
    tokens_seen = tg::index_tensor({0});
    register_module("embed", embed);
    register_module("gru", gru);
    register_module("out", out);
    register_buffer("log_prior", log_prior);      // not trained: no gradient, not in the optimizer
    register_buffer("tokens_seen", tokens_seen);  // int64 state that checkpoints carry
  }

  // tokens (B, T) -> logits (B, T, V) = out(gru(embed(tokens))) + log_prior
  tg::Tensor forward(const tg::Tensor& tokens) const { return out(gru(embed(tokens)).output) + log_prior; }

  tg::nn::Embedding embed;
  tg::nn::GRU gru;
  tg::nn::Linear out;
  tg::Tensor log_prior, tokens_seen;
};

}  // namespace

int main() {
  tg::Generator gen(0);
  std::vector<int64_t> ids;
  std::string alphabet;
  for (char c : kText) {
    if (alphabet.find(c) == std::string::npos) alphabet += c;
    ids.push_back(static_cast<int64_t>(alphabet.find(c)));
  }
  const int64_t V = static_cast<int64_t>(alphabet.size()), T = 24, B = 16;
  std::vector<double> counts(static_cast<size_t>(V), 0.0);
  for (int64_t id : ids) counts[static_cast<size_t>(id)] += 1;
  TiedCharLM model(V, 32, tg::from_vector(counts, {V}, {}), gen);
  fmt::print("{}", model.summary());

  // Two groups: the shared embedding learns faster and is not decayed; the rest is.
  std::vector<std::pair<std::string, tg::Tensor>> embedding, rest;
  for (auto& [name, p] : model.named_parameters()) (name == "embed.weight" ? embedding : rest).emplace_back(name, p);
  tg::optim::AdamW adamw({{.params = embedding, .lr = 1e-2, .weight_decay = 0.0}, {.params = rest}},
                         {.lr = 5e-3, .weight_decay = 1e-4});

  double loss_value = 0;
  for (int step = 0; step < 150; ++step) {
    // B random windows of T + 1 characters: inputs and next characters.
    std::vector<int64_t> inputs, targets;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t start = static_cast<int64_t>(gen.next_u64() % (ids.size() - T - 1));
      inputs.insert(inputs.end(), ids.begin() + start, ids.begin() + start + T);
      targets.insert(targets.end(), ids.begin() + start + 1, ids.begin() + start + T + 1);
    }
    const tg::Tensor x = tg::from_vector(inputs, {B, T}, {tg::DType::i64});
    const tg::Tensor y = tg::from_vector(targets, {B, T}, {tg::DType::i64});
    const tg::Tensor loss = tg::cross_entropy(model.forward(x), y);
    loss.backward();
    adamw.step();
    adamw.zero_grad();
    model.tokens_seen.copy_(model.tokens_seen + B * T);  // buffers change in place, outside the tape
    loss_value = loss.item();
    if (step % 50 == 0) fmt::print("step {:3d}  loss {:.3f}\n", step, loss_value);
  }
  fmt::print("final loss {:.3f} nats per character, {} tokens seen\n", loss_value, model.tokens_seen[0].item());

  // A checkpoint holds the shared weight once and both buffers.
  const std::string path = (std::filesystem::temp_directory_path() / "tied_lm_example.safetensors").string();
  tg::nn::save(model, path);
  tg::Generator other_gen(1);
  TiedCharLM restored(V, 32, tg::from_vector(std::vector<double>(static_cast<size_t>(V), 1.0), {V}, {}), other_gen);
  tg::nn::load(restored, path);
  std::filesystem::remove(path);
  const bool restored_ok = restored.tokens_seen.to_vector<int64_t>() == model.tokens_seen.to_vector<int64_t>() &&
                           restored.log_prior.to_vector<float>() == model.log_prior.to_vector<float>() &&
                           restored.out.weight.is_same(restored.embed.weight) &&
                           restored.embed.weight.to_vector<float>() == model.embed.weight.to_vector<float>();
  fmt::print("checkpoint round trip: {}\n", restored_ok ? "parameters and buffers back" : "MISMATCH");
  return loss_value < 0.8 && restored_ok ? 0 : 1;
}
