// attention_translate: Bahdanau et al. 2014's attention model, trained on
// Multi30k German→English and scored with BLEU, in one file. main, at the
// bottom, is the whole run; the sections above it come in its order:
//
//   1. the data      Multi30k's tokenized files -> vocabularies -> id pairs
//   2. the model     encoder, attention, decoder step
//   3. the loss      cross entropy per target token, padding ignored
//   4. training      bucketed batches, backward, gradient clipping, Adam
//   5. decoding      greedy, one token per step, batched
//   6. BLEU          multi-bleu.perl -lc on a split (tg::text::multi_bleu)
//
//   attention_translate --steps 500 --threads 2
//   attention_translate --steps 20 --train-limit 2000 --embed 32 --hidden 32 --eval-limit 100
//
// The full product on the same model (checkpoints, resume, beam search, MPI,
// profiling) is the `translate` program (docs/translate.md) on the apps/translate
// library; this is the one to read first.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>
#include "examples/cli_checks.h"

struct Options {
  std::string data_dir;      // "" = $MULTI30K_DIR, else the download cache
  int64_t train_limit = 0;   // > 0: only the first N training pairs
  int64_t max_len = 50;      // training pairs with a longer side are left out
  int64_t embed = 128, hidden = 256;
  double dropout = 0.2;
  int64_t steps = 500;       // optimizer steps
  int64_t batch_size = 64;
  double lr = 2e-3;
  double clip = 1.0;         // max gradient norm
  int64_t log_every = 50;
  std::string eval_split = "val";  // or test_2016_flickr
  int64_t eval_limit = 0;    // > 0: only the first N pairs of the split
  int threads = 2;
  uint64_t seed = 1;
};

// ---- 1. the data ----

// One split's pairs, as lines of space-separated tokens (lowercased, Moses-tokenized: *.lc.norm.tok.*).
struct Split {
  std::vector<std::string> de, en;
};

Split read_split(const std::string& dir, const std::string& name, int64_t limit) {
  Split split;
  const std::string stem = dir + "/" + name + ".lc.norm.tok.";
  for (auto& [de, en] : tg::text::read_parallel(stem + "de.gz", stem + "en.gz")) {
    if (limit > 0 && static_cast<int64_t>(split.de.size()) == limit) break;
    split.de.push_back(std::move(de));
    split.en.push_back(std::move(en));
  }
  return split;
}

std::vector<std::vector<std::string>> tokens_of(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> tokens;
  for (const std::string& line : lines) tokens.push_back(tg::text::split_tokens(line));
  return tokens;
}

// ---- 2. the model ----
// Bahdanau, Cho & Bengio 2014 in the layout of the PyTorch tutorial most
// readers know (bentrevett/pytorch-seq2seq, part 3); apps/translate/models/bahdanau_model.h
// is the same model written for speed. Time-major: src (S, B), tgt (T, B).
//
//   encoder    h_j = [h→_j; h←_j] = BiGRU(E_de x)_j                  (S, B, 2H)
//   start      s_0 = tanh(W_s [h→_last; h←_first] + b_s)              (B, H)
//   attention  e_tj = vᵀ tanh(W_k h_j + b_k + W_q s_{t-1})
//              α_t = softmax_j(e_t) over real source words,  c_t = Σ_j α_tj h_j   (B, 2H)
//   decoder    s_t = GRUCell([E_en y_{t-1}; c_t], s_{t-1})            (B, H)
//   output     logits_t = W_o [s_t; c_t; E_en y_{t-1}] + b_o            (B, V_en)
struct AttentionModel : tg::nn::Module {
  tg::nn::Embedding src_embed, tgt_embed;  // (V, E), row <pad> kept at zero
  tg::nn::Dropout dropout;                 // on both embeddings, in training only
  tg::nn::GRU encoder;                     // E -> 2H, bidirectional
  tg::nn::Linear init_state;               // W_s (H, 2H), b_s
  tg::nn::Linear key_proj, query_proj, v;  // W_k (H, 2H) and b_k; W_q (H, H); v (1, H)
  tg::nn::GRUCell cell;                    // input E + 2H, state H
  tg::nn::Linear out;                      // W_o (V_en, H + 2H + E), b_o

  AttentionModel(int64_t de_words, int64_t en_words, const Options& o, tg::Generator& gen)
      : src_embed(de_words, o.embed, tg::text::Vocab::pad_id, tg::DType::f32, gen),
        tgt_embed(en_words, o.embed, tg::text::Vocab::pad_id, tg::DType::f32, gen),
        dropout(o.dropout, gen.next_u64()),
        encoder(o.embed, o.hidden, {.bidirectional = true}, gen),
        init_state(2 * o.hidden, o.hidden, gen),
        key_proj(2 * o.hidden, o.hidden, gen),
        query_proj(o.hidden, o.hidden, {.bias = false}, gen),
        v(o.hidden, 1, {.bias = false}, gen),
        cell(o.embed + 2 * o.hidden, o.hidden, gen),
        out(3 * o.hidden + o.embed, en_words, gen) {
    register_module("src_embed", src_embed);
    register_module("tgt_embed", tgt_embed);
    register_module("dropout", dropout);
    register_module("encoder", encoder);
    register_module("init_state", init_state);
    register_module("key_proj", key_proj);
    register_module("query_proj", query_proj);
    register_module("v", v);
    register_module("cell", cell);
    register_module("out", out);
  }

  // What the decoder reads of a source batch.
  struct Encoded {
    tg::Tensor keys;            // h (B, S, 2H)
    tg::Tensor projected_keys;  // W_k h + b_k (B, S, H): once per batch, not per step
    tg::Tensor mask;            // (B, S) bool, true on real words
    tg::Tensor s0;              // (B, H)
  };

  Encoded encode(const tg::text::Batch& batch) const {
    const int64_t S = batch.src.size(0), B = batch.src.size(1), H = encoder.hidden_size();
    const tg::Tensor x = dropout(src_embed(batch.src));                   // (S, B, E)
    const tg::nn::GRUOutput h = encoder(x, {}, batch.src_lengths);         // output (S, B, 2H), h_n (2, B, H)
    // h_n[0]: the forward state at each sentence's last real word; h_n[1]: the backward one at its first.
    const tg::Tensor last = tg::concat({tg::select(h.h_n, 0, 0), tg::select(h.h_n, 0, 1)}, 1);  // (B, 2H)
    // (S, B, 2H) -> (B, S, 2H), copied into place once rather than read strided at every step
    const tg::Tensor keys = tg::reshape(tg::permute(h.output, {1, 0, 2}), {B, S, 2 * H});
    return {keys, key_proj(keys), batch.src_mask, tg::tanh(init_state(last))};
  }

  // c_t (B, 2H) from s_{t-1} (B, H); the tutorial's chapter 4 builds the same from ops, step by step.
  tg::Tensor attend(const Encoded& enc, const tg::Tensor& s) const {
    const tg::Tensor energy = tg::tanh(enc.projected_keys + tg::unsqueeze(query_proj(s), 1));  // (B, S, H)
    const tg::Tensor scores = tg::squeeze(v(energy), 2);                                      // e_t (B, S)
    // Padding scores -∞: e^-∞ = 0, so it gets weight exactly 0 and the real words' weights sum to 1.
    const double minus_infinity = -std::numeric_limits<double>::infinity();
    const tg::Tensor alpha = tg::softmax(tg::masked_fill(scores, tg::logical_not(enc.mask), minus_infinity), -1);
    return tg::squeeze(tg::matmul(tg::unsqueeze(alpha, 1), enc.keys), 1);  // (B, 1, S) @ (B, S, 2H)
  }

  // One decoder step from the previous words y_{t-1} (B) int64 and s_{t-1}:
  // s_t and what the output layer reads, [s_t; c_t; E y_{t-1}] (logits_t = out(features)).
  struct Step {
    tg::Tensor state, features;
  };
  Step step(const Encoded& enc, const tg::Tensor& prev_words, const tg::Tensor& s) const {
    const tg::Tensor y = dropout(tgt_embed(prev_words));     // (B, E)
    const tg::Tensor c = attend(enc, s);                     // (B, 2H)
    const tg::Tensor next = cell(tg::concat({y, c}, 1), s);  // (B, H)
    return {next, tg::concat({next, c, y}, 1)};              // (B, H), (B, 3H + E)
  }

  // Teacher forcing: step t reads the reference word tgt_in[t] (<bos> first), not
  // its own guess. Logits (T, B, V_en), the output layer once for all steps
  // (one large product, and one gradient for W_o instead of T).
  tg::Tensor forward(const tg::text::Batch& batch) const {
    const Encoded enc = encode(batch);
    tg::Tensor s = enc.s0;
    std::vector<tg::Tensor> features;
    for (int64_t t = 0; t < batch.tgt_in.size(0); ++t) {
      const Step next = step(enc, tg::select(batch.tgt_in, 0, t), s);
      features.push_back(next.features);
      s = next.state;
    }
    return out(tg::stack(features, 0));  // (T, B, 3H + E) -> (T, B, V_en)
  }
};

// ---- 3. the loss ----
// Mean cross entropy over the batch's real target words: logits (T·B, V)
// against tgt_out (T·B) = y_1 .. y_n <eos>; <pad> positions count for nothing.
tg::Tensor batch_loss(const AttentionModel& model, const tg::text::Batch& batch) {
  return tg::cross_entropy(tg::flatten(model.forward(batch), 0, 1), tg::flatten(batch.tgt_out),
                           {.ignore_index = tg::text::Vocab::pad_id});
}

// ---- 4. training ----
void train(AttentionModel& model, const std::vector<tg::text::Example>& pairs, const Options& o) {
  tg::optim::Adam adam(model.named_parameters(), {.lr = o.lr});
  // Each epoch shuffles the pairs, then batches sentences of like length together (less padding).
  const tg::text::BatchOptions batching{.batch_size = o.batch_size, .seed = o.seed};
  std::vector<std::vector<int64_t>> epoch_batches;
  size_t next_batch = 0;
  uint64_t epoch = 0;
  double loss_sum = 0;
  const auto start = std::chrono::steady_clock::now();
  model.train();
  for (int64_t step = 1; step <= o.steps; ++step) {
    if (next_batch == epoch_batches.size()) {
      epoch_batches = tg::text::plan_epoch(pairs, batching, epoch++);
      next_batch = 0;
    }
    const tg::text::Batch batch = tg::text::make_batch(pairs, epoch_batches[next_batch++]);
    const tg::Tensor loss = batch_loss(model, batch);
    loss.backward();                                                        // every parameter's grad()
    const double norm = tg::optim::clip_grad_norm(model.parameters(), o.clip);  // rescaled to at most o.clip
    adam.step();
    adam.zero_grad();
    loss_sum += loss.item();
    if (step % o.log_every == 0 || step == o.steps) {
      const int64_t since = (step - 1) % o.log_every + 1;  // steps in this line's average
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("step {}/{}  epoch {}  loss {:.4f}  grad norm {:.2f}  {:.0f} s\n", step, o.steps, epoch,
                 loss_sum / static_cast<double>(since), norm, seconds);
      std::fflush(stdout);
      loss_sum = 0;
    }
  }
}

// ---- 5. decoding ----
// Greedy search: every sentence of the batch takes its most probable next word,
// feeding it back, until it says <eos> or has max_len words. Word ids per sentence.
std::vector<std::vector<int64_t>> greedy_decode(const AttentionModel& model, const tg::text::Batch& batch,
                                                int64_t max_len) {
  tg::NoGrad no_grad;  // nothing to differentiate: no tape
  const AttentionModel::Encoded enc = model.encode(batch);
  const int64_t B = batch.size();
  tg::Tensor words = tg::index_tensor(std::vector<int64_t>(B, tg::text::Vocab::bos_id));  // (B)
  tg::Tensor s = enc.s0;
  std::vector<std::vector<int64_t>> out(B);
  std::vector<bool> done(B, false);
  for (int64_t t = 0, open = B; t < max_len && open > 0; ++t) {
    const AttentionModel::Step next = model.step(enc, words, s);
    words = tg::argmax(model.out(next.features), 1);  // the most probable word (B) int64
    s = next.state;
    const std::vector<int64_t> ids = words.to_vector<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      if (ids[b] == tg::text::Vocab::eos_id) {
        done[b] = true;
        --open;
      } else {
        out[b].push_back(ids[b]);
      }
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + w;
  return line;
}

// ---- 6. BLEU ----
// Translates every German sentence of the split (batches of like length) and
// scores the output against its English references, as multi-bleu.perl -lc does.
void evaluate(AttentionModel& model, const Split& split, const tg::text::Vocab& de_vocab,
              const tg::text::Vocab& en_vocab, const std::string& name) {
  model.eval();  // no dropout
  const std::vector<tg::text::Example> pairs =
      tg::text::encode_pairs(tokens_of(split.de), tokens_of(split.en), de_vocab, en_vocab);
  std::vector<std::string> hypotheses(pairs.size());
  for (const std::vector<int64_t>& indices : tg::text::plan_eval(pairs, 64)) {
    const tg::text::Batch batch = tg::text::make_batch(pairs, indices);
    const int64_t max_len = 2 * batch.src.size(0) + 10;  // room for a longer English sentence
    const std::vector<std::vector<int64_t>> ids = greedy_decode(model, batch, max_len);
    for (size_t k = 0; k < indices.size(); ++k) hypotheses[indices[k]] = join(en_vocab.decode(ids[k]));
  }
  // Shown as text (Moses' escapes such as &apos; undone); scored as tokens.
  auto readable = [](const std::string& tokens, const char* lang) {
    return tg::text::detokenize(tg::text::split_tokens(tokens), lang);
  };
  for (size_t i = 0; i < std::min<size_t>(3, pairs.size()); ++i)
    fmt::print("  de  {}\n  en  {}\n  mt  {}\n", readable(split.de[i], "de"), readable(split.en[i], "en"),
               readable(hypotheses[i], "en"));
  const tg::text::BleuScore bleu = tg::text::multi_bleu(hypotheses, split.en, /*lowercase=*/true);
  fmt::print("{} BLEU (greedy, {} sentences): {}\n", name, pairs.size(), bleu.str());
}

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Bahdanau et al. 2014's attention model on Multi30k German->English: trains, then prints BLEU."};
  app.add_option("--data-dir", o.data_dir, "Multi30k directory (default: $MULTI30K_DIR, else "
                 "~/.cache/tapegrad/multi30k, where scripts/get_multi30k.sh puts it)");
  app.add_option("--train-limit", o.train_limit, "only the first N training pairs (0: all)")->capture_default_str();
  app.add_option("--steps", o.steps, "optimizer steps")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--batch-size", o.batch_size, "sentence pairs per step")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--embed", o.embed, "word vector size E")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--hidden", o.hidden, "GRU state size H")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--dropout", o.dropout, "dropout on the embeddings")->capture_default_str()->check(cli_checks::between(0.0, 0.95));
  app.add_option("--lr", o.lr, "Adam learning rate")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--clip", o.clip, "max gradient norm")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--log-every", o.log_every, "a loss line every N steps")->capture_default_str()->check(cli_checks::positive());
  app.add_option("--eval-split", o.eval_split, "split scored with BLEU")->capture_default_str()
      ->check(CLI::IsMember({"val", "test_2016_flickr"}));
  app.add_option("--eval-limit", o.eval_limit, "only its first N pairs (0: all)")->capture_default_str();
  app.add_option("--threads", o.threads, "threads for kernels and OpenBLAS")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--seed", o.seed, "seed of the weights, dropout and batch order")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cli_checks::note_if_more_threads_than_cores(o.threads);
  tg::set_num_threads(o.threads);

  // 1. the data: vocabularies from the training side (words seen once become <unk>).
  const std::string dir = tg::text::find_multi30k_dir(o.data_dir);  // --data-dir, $MULTI30K_DIR, the download cache
  if (!std::filesystem::exists(dir + "/train.lc.norm.tok.de.gz")) {
    fmt::print(stderr, "Multi30k not found in '{}': expected train.lc.norm.tok.de.gz there "
               "(--data-dir, $MULTI30K_DIR, or scripts/get_multi30k.sh)\n", dir);
    return 1;
  }
  const Split train_split = read_split(dir, "train", o.train_limit);
  const Split eval_split = read_split(dir, o.eval_split, o.eval_limit);
  const auto de_train = tokens_of(train_split.de), en_train = tokens_of(train_split.en);
  const tg::text::Vocab de_vocab = tg::text::Vocab::build(de_train, 2), en_vocab = tg::text::Vocab::build(en_train, 2);
  std::vector<tg::text::Example> pairs = tg::text::encode_pairs(de_train, en_train, de_vocab, en_vocab);
  const int64_t dropped = tg::text::drop_long_examples(pairs, o.max_len);
  fmt::print("data: {} training pairs ({} longer than {} words left out), {} German and {} English words\n",
             pairs.size(), dropped, o.max_len, de_vocab.size(), en_vocab.size());

  // 2. the model
  tg::Generator gen(o.seed);
  AttentionModel model(de_vocab.size(), en_vocab.size(), o, gen);
  fmt::print("model: E {}, H {}, {} parameters\n", o.embed, o.hidden, model.parameter_count());

  // 3.-4. training, then 5.-6. decoding and BLEU
  train(model, pairs, o);
  evaluate(model, eval_split, de_vocab, en_vocab, o.eval_split);
  return 0;
}
