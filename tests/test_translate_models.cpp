// The translation models (apps/translate/models/): Cho et al. 2014 and Bahdanau
// et al. 2014. Teacher-forced logits against PyTorch
// (tests/fixtures/make_translate_fixtures.py), float64 gradient checks of the
// loss, the source mask, the batched training path against encode + step,
// a few training steps on real Multi30k pairs, greedy and beam search (the
// batched beam search against the one-sentence search it replaced, kept here
// as a reference), and the error messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "backends/cpu/cpu_gemm.h"
#include "apps/translate/beam_ranking.h"
#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/models/ensemble.h"
#include "apps/translate/search.h"
#include "apps/translate/models/seq2seq.h"
#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"
#include "translation_helpers.h"

namespace {

using test_support::max_abs_diff;
using test_support::max_abs;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::text::Batch;
using tg::text::Example;
using tg::text::Vocab;
using tg::translate::BahdanauModel;
using tg::translate::ChoModel;
using tg::translate::ModelConfig;
using tg::translate::Seq2Seq;
using namespace translation_helpers;

const std::vector<std::string> kKinds = {"cho", "bahdanau"};
// The models searched by greedy_decode and beam_search in the tests below.
const std::vector<std::string> kSearchKinds = {"cho", "bahdanau", "transformer"};
bool has_attention(const std::string& kind) { return kind != "cho"; }

// ---------------------------------------------------------------------------
// helpers

// ---------------------------------------------------------------------------
// Multi30k: the first pairs of the tokenized training set, or none

using test_support::multi30k_dir;

using test_support::Fixture;
using test_support::FixtureTensor;
using test_support::entry;
using test_support::load_fixture;

Tensor fixture_ids(const Fixture& fixture, const std::string& name) {
  const FixtureTensor& t = entry(fixture, name);
  std::vector<int64_t> ids;
  for (double v : t.values) ids.push_back(static_cast<int64_t>(v));
  return tg::index_tensor(ids, t.shape);
}

// ---------------------------------------------------------------------------

TEST_CASE("teacher-forced logits match PyTorch's implementation of each model") {
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    const Fixture fixture = load_fixture("translate_" + kind + ".txt");
    auto model = build(config_of(kind, 9, 8, 3, 4, 0.0), DType::f64, 1);
    int loaded = 0;
    for (const auto& [name_, p_] : model->named_parameters()) {
      const auto& name = name_;  // a plain reference: clang 14 cannot capture a structured binding
      const auto& p = p_;
      CAPTURE(name);
      const FixtureTensor& t = entry(fixture, name);
      REQUIRE(t.shape == p.shape());
      std::copy(t.values.begin(), t.values.end(), p.data<double>());
      ++loaded;
    }
    CHECK(loaded + 4 == static_cast<int>(fixture.size()));  // + src, src_lengths, tgt_in, logits

    Batch batch;
    batch.src = fixture_ids(fixture, "src");                  // (S, B)
    batch.src_lengths = fixture_ids(fixture, "src_lengths");  // (B)
    batch.tgt_in = fixture_ids(fixture, "tgt_in");            // (T, B)
    const std::vector<int64_t> lengths = batch.src_lengths.to_vector<int64_t>();
    const int64_t S = batch.src.size(0), B = batch.src.size(1);
    std::vector<double> mask(B * S);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < lengths[b]; ++j) mask[b * S + j] = 1;
    batch.src_mask = tg::ne(tg::from_vector(mask, Shape{B, S}, {DType::f64}), 0.0);

    const FixtureTensor& expected = entry(fixture, "logits");
    const Tensor logits = model->forward(batch);
    REQUIRE(logits.shape() == expected.shape);
    CHECK(max_abs_diff(logits, tg::from_vector(expected.values, expected.shape, {DType::f64})) < 1e-12);
  }
}

TEST_CASE("forward gives (T, B, V) logits and the parameters have checkpoint names") {
  const std::vector<Example> examples = random_examples(5, 13, 11, 6, 7, 3);
  const Batch batch = batch_of(examples);
  const int64_t T = batch.tgt_in.size(0), B = batch.size();

  auto cho = tg::translate::make_model(config_of("cho", 13, 11, 5, 6, 0.1), 1);
  auto bahdanau = tg::translate::make_model(config_of("bahdanau", 13, 11, 5, 6, 0.1), 1);
  CHECK(cho->type_name() == "ChoModel");
  CHECK(bahdanau->type_name() == "BahdanauModel");
  CHECK(cho->config().kind == "cho");
  for (Seq2Seq* model : {cho.get(), bahdanau.get()}) {
    CAPTURE(model->type_name());
    CHECK(model->forward(batch).shape() == Shape{T, B, 11});
  }

  std::map<std::string, Shape> cho_shapes, bahdanau_shapes;
  for (const auto& [name, p] : cho->named_parameters()) cho_shapes[name] = p.shape();
  for (const auto& [name, p] : bahdanau->named_parameters()) bahdanau_shapes[name] = p.shape();
  const int64_t E = 5, H = 6;
  CHECK(cho_shapes.at("encoder.embed.weight") == Shape{13, E});
  CHECK(cho_shapes.at("encoder.gru.weight_ih_l0") == Shape{3 * H, E});
  CHECK(cho_shapes.at("decoder.init_state.weight") == Shape{H, H});
  CHECK(cho_shapes.at("decoder.gru.weight_ih") == Shape{3 * H, E + H});
  CHECK(cho_shapes.at("decoder.out.weight") == Shape{11, H + E + H});
  CHECK(cho_shapes.size() == 14);
  CHECK(bahdanau_shapes.at("encoder.gru.weight_ih_l0_reverse") == Shape{3 * H, E});
  CHECK(bahdanau_shapes.at("decoder.init_state.weight") == Shape{H, 2 * H});
  CHECK(bahdanau_shapes.at("decoder.attention.key_proj.weight") == Shape{H, 2 * H});
  CHECK(bahdanau_shapes.at("decoder.attention.query_proj.weight") == Shape{H, H});
  CHECK(bahdanau_shapes.at("decoder.attention.v.weight") == Shape{1, H});
  CHECK(bahdanau_shapes.at("decoder.gru.weight_ih") == Shape{3 * H, E + 2 * H});
  CHECK(bahdanau_shapes.at("decoder.out.weight") == Shape{11, H + 2 * H + E});
  CHECK(bahdanau_shapes.size() == 22);

  // The same seed gives the same model; another seed another one.
  auto again = tg::translate::make_model(config_of("cho", 13, 11, 5, 6, 0.1), 1);
  auto other = tg::translate::make_model(config_of("cho", 13, 11, 5, 6, 0.1), 2);
  cho->eval(), again->eval(), other->eval();
  CHECK(max_abs_diff(cho->forward(batch), again->forward(batch)) == 0);
  CHECK(max_abs_diff(cho->forward(batch), other->forward(batch)) > 1e-3);
}

TEST_CASE("padded source positions change nothing; real ones do") {
  std::vector<Example> examples = random_examples(4, 13, 11, 6, 5, 5);
  examples[0].src = {4, 5, 6, 7, 8, 9};  // the longest, so the others are padded
  examples[1].src = {7, 8};
  const Batch batch = batch_of(examples);
  Batch noisy = batch, changed = batch;
  noisy.src = batch.src.clone();
  changed.src = batch.src.clone();
  const int64_t S = batch.src.size(0), B = batch.size();
  const std::vector<int64_t> lengths = batch.src_lengths.to_vector<int64_t>();
  int64_t padded = 0;
  for (int64_t j = 0; j < S; ++j)
    for (int64_t b = 0; b < B; ++b)
      if (j >= lengths[b]) noisy.src.data<int64_t>()[j * B + b] = 4 + (j + b) % 9, ++padded;
  REQUIRE(padded >= 4);
  changed.src.data<int64_t>()[1 * B + 1] = 12;  // sentence 1's second (and last) real token

  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(config_of(kind, 13, 11, 5, 6, 0.3), 4);
    model->eval();
    const Tensor logits = model->forward(batch);
    CHECK(max_abs_diff(logits, model->forward(noisy)) == 0);
    // Only sentence 1 changes.
    const Tensor diff = tg::sub(model->forward(changed), logits);
    for (int64_t b = 0; b < B; ++b) {
      const double d = max_abs(tg::select(diff, 1, b));
      if (b == 1) CHECK(d > 1e-4); else CHECK(d == 0);
    }
  }
}

TEST_CASE("float64 gradient check of the teacher-forced loss") {
  // vocab 7, embed 3, hidden 4; B = 2 sentences, S = 3, T = 3.
  std::vector<Example> examples(2);
  examples[0] = {{4, 5, 6}, {5, 6}};
  examples[1] = {{6, 4}, {4}};
  const Batch batch = batch_of(examples);
  REQUIRE(batch.src.shape() == Shape{3, 2});
  REQUIRE(batch.tgt_in.shape() == Shape{3, 2});
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = build(config_of(kind, 7, 7, 3, 4, 0.0), DType::f64, 9);
    std::map<std::string, Tensor> p;
    for (const auto& [name, t] : model->named_parameters()) p[name] = t;
    std::vector<Tensor> inputs = {p.at("decoder.out.weight"), p.at("encoder.gru.weight_ih_l0"),
                                  p.at("decoder.gru.weight_ih"), p.at("decoder.init_state.weight")};
    if (kind == "bahdanau") {
      inputs.push_back(p.at("encoder.gru.weight_hh_l0_reverse"));
      inputs.push_back(p.at("decoder.attention.key_proj.weight"));
      inputs.push_back(p.at("decoder.attention.v.weight"));
    }
    const tg::GradcheckResult result =
        tg::gradcheck([&](const std::vector<Tensor>&) { return model->loss(batch); }, inputs);
    CHECK_MESSAGE(result.ok, result.message);
  }
}

TEST_CASE("Seq2Seq::loss: the cross entropy of forward's logits over the target tokens, padding left out") {
  std::vector<Example> examples(3);
  examples[0] = {{4, 5, 6}, {5, 6, 4}};
  examples[1] = {{6, 4}, {4}};
  examples[2] = {{5}, {6, 6}};
  const Batch batch = batch_of(examples);
  const double eps = 0.1;  // label smoothing: the target (1-ε)·one-hot + ε/V
  for (const std::string kind : {"cho", "bahdanau", "transformer"}) {
    CAPTURE(kind);
    auto model = build(config_of(kind, 7, 7, 4, 6, 0.0), DType::f64, 9);
    const Tensor logits = model->forward(batch);  // (T, B, V)
    const int64_t rows = logits.size(0) * logits.size(1), V = logits.size(2);
    const std::vector<double> z = logits.to_vector<double>();
    const std::vector<int64_t> y = batch.tgt_out.to_vector<int64_t>();
    double sum = 0, smoothed = 0;
    int64_t tokens = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (y[r] == Vocab::pad_id) continue;
      const double* zr = z.data() + r * V;
      double log_sum_exp = 0, nll_sum = 0;  // log Σ_v exp z_v; Σ_v -log p_v
      for (int64_t v = 0; v < V; ++v) log_sum_exp += std::exp(zr[v]);
      log_sum_exp = std::log(log_sum_exp);
      for (int64_t v = 0; v < V; ++v) nll_sum += log_sum_exp - zr[v];
      sum += log_sum_exp - zr[y[r]];
      smoothed += (1 - eps) * (log_sum_exp - zr[y[r]]) + eps * nll_sum / static_cast<double>(V);
      ++tokens;
    }
    REQUIRE(tokens == batch.num_tgt_tokens);
    CHECK(model->loss(batch).item() == doctest::Approx(sum / static_cast<double>(tokens)).epsilon(1e-12));
    CHECK(model->loss(batch, {.reduction = tg::Reduction::sum}).item() == doctest::Approx(sum).epsilon(1e-12));
    CHECK(model->loss(batch, {.label_smoothing = eps}).item() ==
          doctest::Approx(smoothed / static_cast<double>(tokens)).epsilon(1e-12));
  }
}

TEST_CASE("forward_at: forward's logits at the target tokens, and the loss's gradients those of every row") {
  std::vector<Example> examples(3);
  examples[0] = {{4, 5, 6}, {5, 6, 4, 5}};
  examples[1] = {{6, 4}, {4}};
  examples[2] = {{5}, {6, 6}};
  const Batch batch = batch_of(examples);
  const int64_t T = batch.tgt_out.size(0), B = batch.tgt_out.size(1);
  std::vector<int64_t> expected_rows;  // t·B + b where tgt_out is a token
  const std::vector<int64_t> y = batch.tgt_out.to_vector<int64_t>();
  for (int64_t r = 0; r < T * B; ++r)
    if (y[static_cast<size_t>(r)] != Vocab::pad_id) expected_rows.push_back(r);
  const Tensor rows = tg::text::target_rows(batch);
  REQUIRE(rows.to_vector<int64_t>() == expected_rows);
  REQUIRE(static_cast<int64_t>(expected_rows.size()) == batch.num_tgt_tokens);
  REQUIRE(static_cast<int64_t>(expected_rows.size()) < T * B);  // padding to skip
  for (const std::string kind : {"cho", "bahdanau", "transformer"})
    for (const bool tied : {false, true}) {
      if (kind == "cho" && tied) continue;  // Cho has no tied output layer
      CAPTURE(kind);
      CAPTURE(tied);
      ModelConfig config = config_of(kind, 7, 7, 4, 6, 0.0);
      config.tie_embeddings = tied;
      auto model = build(config, DType::f64, 9);
      const Tensor all = model->forward(batch);  // (T, B, V)
      const Tensor picked = tg::index_select(tg::reshape(all, Shape{-1, all.size(2)}), 0, rows);
      const Tensor at = model->forward_at(batch, rows);  // (N, V)
      REQUIRE(at.shape() == picked.shape());
      CHECK(max_abs_diff(at, picked) <= 1e-12);
      // The loss on the target rows against cross_entropy over all T·B rows with padding ignored.
      std::vector<std::vector<double>> grads[2];
      double losses[2];
      for (int every_row = 0; every_row < 2; ++every_row) {
        model->zero_grad();
        tg::CrossEntropyOptions options;
        options.ignore_index = Vocab::pad_id;
        const Tensor loss = every_row == 1 ? tg::cross_entropy(tg::reshape(model->forward(batch), Shape{T * B, -1}),
                                                                tg::reshape(batch.tgt_out, Shape{-1}), options)
                                           : model->loss(batch);
        losses[every_row] = loss.item();
        loss.backward();
        for (const Tensor& p : model->parameters())
          grads[every_row].push_back(p.grad().defined() ? p.grad().to_vector<double>() : std::vector<double>());
      }
      CHECK(losses[0] == doctest::Approx(losses[1]).epsilon(1e-13));
      REQUIRE(grads[0].size() == grads[1].size());
      double worst = 0;
      for (size_t i = 0; i < grads[0].size(); ++i) {
        REQUIRE(grads[0][i].size() == grads[1][i].size());
        for (size_t j = 0; j < grads[0][i].size(); ++j)
          worst = std::max(worst, std::abs(grads[0][i][j] - grads[1][i][j]));
      }
      CHECK(worst <= 1e-13);
    }
}

TEST_CASE("recompute_encoder: the same loss and gradients bit for bit, dropout on, and less kept") {
  std::vector<Example> examples(3);
  examples[0] = {{4, 5, 6, 7, 8}, {5, 6, 9}};
  examples[1] = {{6, 4}, {4, 7}};
  examples[2] = {{9, 9, 5, 4}, {8}};
  const Batch batch = batch_of(examples);
  for (const std::string& kind : kKinds)
    for (const std::string cell : {"gru", "lstm"}) {
      CAPTURE(kind);
      CAPTURE(cell);
      std::vector<std::vector<float>> grads[2];
      double losses[2] = {0, 0};
      size_t saved[2] = {0, 0};
      for (int recompute = 0; recompute < 2; ++recompute) {
        ModelConfig config = config_of(kind, 11, 11, 8, 12, 0.3);
        config.cell = cell;
        config.recompute_encoder = recompute == 1;
        auto model = build(config, DType::f32, 5);
        model->train();
        model->reseed(77);
        tg::Tape tape;
        tg::TapeScope scope(tape);
        const Tensor loss = model->loss(batch);
        saved[recompute] = tape.saved_bytes();
        losses[recompute] = loss.item();
        loss.backward();
        for (const Tensor& p : model->parameters()) grads[recompute].push_back(p.grad().to_vector<float>());
      }
      CHECK(losses[1] == losses[0]);
      CHECK(grads[1] == grads[0]);
      CHECK(saved[1] < saved[0]);
    }
}

TEST_CASE("the batched teacher-forced path equals encode + step with the gold previous tokens") {
  std::vector<Example> examples = random_examples(6, 17, 15, 7, 8, 11);
  const Batch batch = batch_of(examples);
  const int64_t T = batch.tgt_in.size(0);
  for (const std::string& kind : kSearchKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(config_of(kind, 17, 15, 8, 12, 0.3), 5);
    model->eval();
    tg::NoGrad no_grad;
    const Tensor expected = tg::log_softmax(model->forward(batch), -1);  // (T, B, V)
    const tg::translate::Encoded encoded = model->encode(batch.src, batch.src_lengths, batch.src_mask);
    Tensor hidden = encoded.initial_hidden;
    double worst = 0;
    for (int64_t t = 0; t < T; ++t) {
      const tg::translate::Step step = model->step(encoded, tg::select(batch.tgt_in, 0, t).contiguous(), hidden);
      worst = std::max(worst, max_abs_diff(step.log_probs, tg::select(expected, 0, t)));
      hidden = step.hidden;
      CHECK(step.attention.defined() == has_attention(kind));
    }
    CHECK(worst < 1e-5);
  }
}

// The first 64 Multi30k pairs (or synthetic ones), read once for the tests below.
const Corpus& search_corpus() {
  static const Corpus corpus = small_corpus(64);
  return corpus;
}

// A model of each searched kind (E 16, H 32, dropout 0.1, seed 3) after 40 Adam steps (lr 1e-2) on
// search_corpus(), with the loss before each step: trained once and shared by the tests below that need a
// trained model, since training is most of their time (minutes under the sanitizers). Searching it leaves it
// as it was (the tests check that the mode comes back).
struct TrainedModel {
  std::unique_ptr<Seq2Seq> model;
  std::vector<double> losses;
};
const TrainedModel& trained_model(const std::string& kind) {
  static std::map<std::string, TrainedModel> trained;
  auto found = trained.find(kind);
  if (found != trained.end()) return found->second;
  const Corpus& corpus = search_corpus();
  TrainedModel t;
  t.model = tg::translate::make_model(config_of(kind, corpus.src_vocab.size(), corpus.tgt_vocab.size(), 16, 32, 0.1), 3);
  t.losses = train(*t.model, batch_of(corpus.examples), 40, 1e-2);
  return trained.emplace(kind, std::move(t)).first->second;
}

TEST_CASE("a few Adam steps on Multi30k pairs reduce the loss") {
  for (const std::string& kind : kSearchKinds) {
    CAPTURE(kind);
    const std::vector<double>& losses = trained_model(kind).losses;
    MESSAGE(kind << ": loss " << losses.front() << " -> " << losses[24] << " after 25 steps, " << losses.back() << " after 40");
    CHECK(std::isfinite(losses.back()));
    CHECK(losses.front() > std::log(static_cast<double>(search_corpus().tgt_vocab.size())) * 0.8);  // starts near chance
    CHECK(losses[24] < 0.75 * losses.front());
    CHECK(losses.back() < losses[24]);
  }
}

TEST_CASE("beam search: beam 1 is greedy search; wider beams score at least as well") {
  for (const std::string& kind : kSearchKinds) {
    CAPTURE(kind);
    const Corpus& corpus = search_corpus();
    Seq2Seq* model = trained_model(kind).model.get();
    REQUIRE(model->is_training());

    // Greedy over the first 8 sentences as one padded batch.
    std::vector<Example> first(corpus.examples.begin(), corpus.examples.begin() + 8);
    const Batch eight = batch_of(first);
    const int64_t max_len = 12;
    const std::vector<tg::translate::Hypothesis> greedy =
        tg::translate::greedy_decode(*model, eight.src, eight.src_lengths, eight.src_mask, max_len, true);
    CHECK(model->is_training());  // the mode comes back
    REQUIRE(greedy.size() == 8);
    int compared = 0, wider_better = 0;
    for (size_t i = 0; i < first.size(); ++i) {
      CAPTURE(i);
      const tg::translate::Hypothesis& g = greedy[i];
      CHECK(static_cast<int64_t>(g.tokens.size()) <= max_len);
      CHECK((g.finished || static_cast<int64_t>(g.tokens.size()) == max_len));
      const int64_t S = static_cast<int64_t>(first[i].src.size());
      if (has_attention(kind)) {
        REQUIRE(g.attention.defined());
        CHECK(g.attention.shape() == Shape{g.length(), S});
        const Tensor row_sums = tg::sum(g.attention, 1);
        CHECK(max_abs_diff(row_sums, tg::ones({g.length()})) < 1e-5);
      } else {
        CHECK(!g.attention.defined());
      }

      const tg::translate::Hypothesis one = tg::translate::beam_search(*model, first[i].src, 1, max_len, 1.0);
      CHECK(one.tokens == g.tokens);
      CHECK(one.finished == g.finished);
      CHECK(one.log_prob == doctest::Approx(g.log_prob).epsilon(1e-5));
      if (has_attention(kind)) CHECK(max_abs_diff(one.attention, g.attention) < 1e-5);

      for (double alpha : {0.0, 1.0}) {
        CAPTURE(alpha);
        const tg::translate::Hypothesis wide = tg::translate::beam_search(*model, first[i].src, 5, max_len, alpha);
        const double wide_score = tg::translate::normalized_score(wide, alpha);
        const double greedy_score = tg::translate::normalized_score(g, alpha);
        // A greedy output cut at max_len is no translation: its score is not comparable.
        // (float32 sums from differently batched products differ in the last digits)
        const double slack = 1e-5 * (1 + std::abs(greedy_score));
        if (g.finished) {
          CHECK(wide_score >= greedy_score - slack);
          ++compared;
          if (wide_score > greedy_score + slack) ++wider_better;
        }
        if (has_attention(kind)) CHECK(wide.attention.shape() == Shape{wide.length(), S});
      }
    }
    MESSAGE(kind << ": beam 5 beat greedy in " << wider_better << " of " << compared << " comparable searches");
    CHECK(compared >= 8);
  }
}

TEST_CASE("beam search with a tiny vocabulary and a short max_len") {
  // V = 5 < 2K candidates at the first step; max_len 3 cuts hypotheses.
  for (const std::string& kind : kSearchKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(config_of(kind, 9, 5, 4, 6, 0.0), 8);
    for (int64_t max_len : {1, 3}) {
      CAPTURE(max_len);
      const tg::translate::Hypothesis h = tg::translate::beam_search(*model, {4, 5, 6}, 4, max_len, 0.5);
      CHECK(static_cast<int64_t>(h.tokens.size()) <= max_len);
      CHECK((h.finished || static_cast<int64_t>(h.tokens.size()) == max_len));
      CHECK(h.log_prob < 0);
      for (int64_t token : h.tokens) CHECK((token >= 0 && token < 5 && token != Vocab::eos_id));
      if (has_attention(kind)) CHECK(h.attention.shape() == Shape{h.length(), 3});
    }
  }
}

// ---------------------------------------------------------------------------
// Batched beam search against the one-sentence search it replaced, kept here
// as an independent reference: one sentence, n = beam rows per step, all n·V
// candidates partially sorted on the host.

// The one-sentence beam search as search.h describes it, attention included.
tg::translate::Hypothesis reference_beam_search(Seq2Seq& model, const std::vector<int64_t>& src, int64_t beam_size,
                                                int64_t max_len, double length_penalty) {
  using tg::translate::Hypothesis;
  using tg::translate::normalized_score;
  tg::NoGrad no_grad;
  model.eval();
  const int64_t S = static_cast<int64_t>(src.size());
  const tg::Device device = model.device();
  const tg::translate::Encoded encoded =
      model.encode(tg::from_vector(src, Shape{S, 1}, {DType::i64, device}), tg::index_tensor({S}, Shape{1}),
                   tg::ne(tg::ones({1, S}, {DType::f64, device}), 0.0));
  struct Partial {
    std::vector<int64_t> tokens;
    double log_prob = 0;
    std::vector<float> attention;  // (steps, S) row-major
  };
  auto best_index = [&](const std::vector<Hypothesis>& hyps) {
    size_t best = 0;
    for (size_t k = 1; k < hyps.size(); ++k)
      if (normalized_score(hyps[k], length_penalty) > normalized_score(hyps[best], length_penalty)) best = k;
    return best;
  };
  std::vector<Partial> alive(1);
  std::vector<Hypothesis> finished;
  auto finish = [&](const Partial& p, bool ended) {
    Hypothesis h;
    h.tokens = p.tokens;
    h.finished = ended;
    h.log_prob = p.log_prob;
    if (!p.attention.empty())
      h.attention = tg::from_vector(p.attention, Shape{static_cast<int64_t>(p.attention.size()) / S, S}, {DType::f32});
    finished.push_back(std::move(h));
  };
  Tensor hidden = encoded.initial_hidden;
  for (int64_t t = 0; t < max_len; ++t) {
    const int64_t n = static_cast<int64_t>(alive.size());
    const tg::translate::Encoded repeated = tg::translate::select_rows(encoded, tg::zeros({n}, {DType::i64, device}));
    std::vector<int64_t> prev(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) prev[i] = alive[i].tokens.empty() ? Vocab::bos_id : alive[i].tokens.back();
    const tg::translate::Step step = model.step(repeated, tg::from_vector(prev, Shape{n}, {DType::i64, device}), hidden);
    const std::vector<double> log_probs = step.log_probs.to_vector<double>();  // (n, V)
    std::vector<float> attention;
    if (step.attention.defined()) attention = step.attention.to_vector<float>();  // (n, S)
    const int64_t V = step.log_probs.size(1);
    std::vector<int64_t> order(static_cast<size_t>(n * V));
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> scores(order.size());
    for (int64_t k = 0; k < n * V; ++k) scores[k] = alive[k / V].log_prob + log_probs[k];
    const int64_t candidates = std::min<int64_t>(2 * beam_size, n * V);
    std::partial_sort(order.begin(), order.begin() + candidates, order.end(), [&](int64_t a, int64_t b) {
      return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    });
    std::vector<Partial> next;
    std::vector<int64_t> parents;
    for (int64_t r = 0; r < candidates && static_cast<int64_t>(next.size()) < beam_size; ++r) {
      const int64_t i = order[r] / V, token = order[r] % V;
      Partial p;
      p.log_prob = scores[order[r]];
      p.attention = alive[i].attention;
      if (!attention.empty()) p.attention.insert(p.attention.end(), attention.begin() + i * S, attention.begin() + (i + 1) * S);
      p.tokens = alive[i].tokens;
      if (token == Vocab::eos_id) {
        if (r < beam_size) finish(p, true);
        continue;
      }
      p.tokens.push_back(token);
      next.push_back(std::move(p));
      parents.push_back(i);
    }
    const bool done =
        next.empty() ||
        (static_cast<int64_t>(finished.size()) >= beam_size &&
         normalized_score(finished[best_index(finished)], length_penalty) >=
             normalized_score(next.front().log_prob, static_cast<int64_t>(next.front().tokens.size()), length_penalty));
    alive = done ? std::vector<Partial>() : std::move(next);
    if (done) break;
    hidden = tg::index_select(step.hidden, 0, tg::index_tensor(parents, Shape{static_cast<int64_t>(parents.size())}));
  }
  for (const Partial& p : alive) finish(p, false);
  return finished[best_index(finished)];
}

TEST_CASE("batched beam search equals the one-sentence reference for every sentence of a batch") {
  // 20 sentences of 1..9 tokens in corpus order (unsorted), each with its own limit
  // (the state is laid out anew as they finish: 20, 16, 8, 4, 2, 1 blocks);
  // a vocabulary of 5 (fewer than 2K tokens) and one of 23; GRU and LSTM cells;
  // <eos> made somewhat and much more likely than at random, so that searches
  // end both ways (with <eos>, at their limits) and several <eos> compete in a
  // step (only those among the first K finish).
  const std::vector<Example> examples = random_examples(20, 17, 23, 9, 1, 21);
  const Batch batch = batch_of(examples);
  std::vector<int64_t> max_lens;
  for (size_t i = 0; i < examples.size(); ++i) max_lens.push_back(1 + static_cast<int64_t>((5 * i) % 16));
  int finished = 0, cut = 0;  // results that ended with <eos>, and at their limit
  for (const std::string& kind : kSearchKinds) {
    for (const std::string cell : {"gru", "lstm"}) {
      if (kind == "transformer" && cell == "lstm") continue;  // it has no cell
      for (int64_t tgt_vocab : {5, 23}) {
        for (float eos_bias : {0.3f, 0.8f}) {
          CAPTURE(kind);
          CAPTURE(cell);
          CAPTURE(tgt_vocab);
          CAPTURE(eos_bias);
          ModelConfig config = config_of(kind, 17, tgt_vocab, 6, 10, 0.0);
          config.cell = cell;
          auto model = tg::translate::make_model(config, 13);
          for (const auto& [name, p] : model->named_parameters())
            if (name == "decoder.out.bias") p.data<float>()[Vocab::eos_id] += eos_bias;
          for (int64_t beam : {1, 3, 5}) {
            for (double alpha : {0.0, 1.0}) {
              CAPTURE(beam);
              CAPTURE(alpha);
              const std::vector<tg::translate::Hypothesis> batched = tg::translate::beam_search(
                  *model, batch.src, batch.src_lengths, batch.src_mask, beam, max_lens, alpha, true);
              REQUIRE(batched.size() == examples.size());
              for (size_t i = 0; i < examples.size(); ++i) {
                CAPTURE(i);
                const tg::translate::Hypothesis ref =
                    reference_beam_search(*model, examples[i].src, beam, max_lens[i], alpha);
                const tg::translate::Hypothesis& got = batched[i];
                CHECK(got.tokens == ref.tokens);
                CHECK(got.finished == ref.finished);
                CHECK(got.log_prob == doctest::Approx(ref.log_prob).epsilon(1e-5));
                CHECK(static_cast<int64_t>(got.tokens.size()) <= max_lens[i]);
                (got.finished ? finished : cut)++;
                if (has_attention(kind)) {
                  REQUIRE(got.attention.defined());
                  const int64_t S = static_cast<int64_t>(examples[i].src.size());
                  CHECK(got.attention.shape() == Shape{got.length(), S});  // only the real source columns
                  CHECK(max_abs_diff(got.attention, ref.attention) < 1e-5);
                } else {
                  CHECK(!got.attention.defined());
                }
              }
            }
          }
        }
      }
    }
  }
  MESSAGE(finished << " results ended with <eos>, " << cut << " at their limit");
  CHECK(finished > 0);  // both ways of ending are exercised
  CHECK(cut > 0);
}

TEST_CASE("batched beam search: beam 1 is greedy_decode; attention only when asked for") {
  const std::vector<Example> examples = random_examples(6, 17, 19, 8, 1, 5);
  const Batch batch = batch_of(examples);
  for (const std::string& kind : kSearchKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(config_of(kind, 17, 19, 6, 10, 0.0), 4);
    for (int64_t max_len : {1, 4, 12}) {
      CAPTURE(max_len);
      const std::vector<tg::translate::Hypothesis> greedy =
          tg::translate::greedy_decode(*model, batch.src, batch.src_lengths, batch.src_mask, max_len, true);
      const std::vector<tg::translate::Hypothesis> one =
          tg::translate::beam_search(*model, batch.src, batch.src_lengths, batch.src_mask, 1, max_len, 0.7, true);
      REQUIRE(one.size() == greedy.size());
      for (size_t i = 0; i < one.size(); ++i) {
        CAPTURE(i);
        CHECK(one[i].tokens == greedy[i].tokens);
        CHECK(one[i].finished == greedy[i].finished);
        CHECK(one[i].log_prob == doctest::Approx(greedy[i].log_prob).epsilon(1e-5));
        if (has_attention(kind)) CHECK(max_abs_diff(one[i].attention, greedy[i].attention) < 1e-5);
      }
    }
    const std::vector<tg::translate::Hypothesis> plain =
        tg::translate::beam_search(*model, batch.src, batch.src_lengths, batch.src_mask, 3, 10);
    for (const tg::translate::Hypothesis& h : plain) CHECK(!h.attention.defined());
  }
}

TEST_CASE("greedy search: a batch whose sentences end at different steps gives each sentence's own result") {
  // The batch's state shrinks as sentences finish (24 -> 16 -> 8 -> ... rows);
  // every sentence must decode as it does alone.
  for (const std::string& kind : kSearchKinds) {
    CAPTURE(kind);
    const Corpus& corpus = search_corpus();
    Seq2Seq* model = trained_model(kind).model.get();
    const std::vector<Example> first(corpus.examples.begin(), corpus.examples.begin() + 24);
    const Batch many = batch_of(first);
    const int64_t max_len = 14;
    const std::vector<tg::translate::Hypothesis> together =
        tg::translate::greedy_decode(*model, many.src, many.src_lengths, many.src_mask, max_len, true);
    REQUIRE(together.size() == first.size());
    std::set<int64_t> end_steps;
    std::vector<int64_t> lengths;  // the steps each sentence took
    for (size_t i = 0; i < first.size(); ++i) {
      CAPTURE(i);
      const Batch one = batch_of({first[i]});
      const tg::translate::Hypothesis alone =
          tg::translate::greedy_decode(*model, one.src, one.src_lengths, one.src_mask, max_len, true).front();
      CHECK(together[i].tokens == alone.tokens);
      CHECK(together[i].finished == alone.finished);
      CHECK(together[i].log_prob == doctest::Approx(alone.log_prob).epsilon(1e-5));
      if (has_attention(kind)) CHECK(max_abs_diff(together[i].attention, alone.attention) < 1e-5);
      if (alone.finished) end_steps.insert(alone.length());
      lengths.push_back(alone.length());
    }
    MESSAGE(kind << ": sentences ended at " << end_steps.size() << " different steps");
    // The state shrank (24 -> 16 rows) once 8 sentences had ended while others went on.
    const int64_t last = *std::max_element(lengths.begin(), lengths.end());
    CHECK(std::count_if(lengths.begin(), lengths.end(), [&](int64_t n) { return n < last; }) >= 8);

    // Reading the tokens every k steps (as on a GPU) changes nothing: the same tokens, sums and attention.
    // The lazy search keeps rows the eager one has already dropped, so its products have more rows. The own
    // float32 kernel sums each element alike whatever the row count, and every other op of a step gives a
    // row the same bits whatever the rows with it (test_row_independence): bit for bit there. OpenBLAS's
    // sgemm rounds a row differently by the product's row count (0.3.21: row 0 of 1 row and of 15 differ at
    // k = 32, n = 96), so on that path (TG_SGEMM=openblas, and the default where OpenBLAS has an AVX-512
    // core) to float32 rounding.
    const bool exact = tg::cpu::use_own_sgemm();
    MESSAGE(kind << ": lazy against eager " << std::string(exact ? "bit for bit (own kernel)" : "to float32 rounding (OpenBLAS)"));
    for (int64_t check_every : {2, 3, 8, 100}) {
      CAPTURE(check_every);
      const std::vector<tg::translate::Hypothesis> lazy = tg::translate::greedy_decode(
          *model, many.src, many.src_lengths, many.src_mask, max_len, true, check_every);
      REQUIRE(lazy.size() == together.size());
      for (size_t i = 0; i < lazy.size(); ++i) {
        CAPTURE(i);
        CHECK(lazy[i].tokens == together[i].tokens);
        CHECK(lazy[i].finished == together[i].finished);
        if (exact) {
          CHECK(lazy[i].log_prob == together[i].log_prob);
          if (has_attention(kind)) CHECK(max_abs_diff(lazy[i].attention, together[i].attention) == 0);
        } else {
          CHECK(lazy[i].log_prob == doctest::Approx(together[i].log_prob).epsilon(1e-5));
          if (has_attention(kind)) CHECK(max_abs_diff(lazy[i].attention, together[i].attention) < 1e-5);
        }
      }
    }
    CHECK_THROWS_WITH_AS(
        tg::translate::greedy_decode(*model, many.src, many.src_lengths, many.src_mask, max_len, false, -1),
        "greedy_decode: check_every must be >= 0, got -1", tg::Error);
  }
}

TEST_CASE("beam ranking: the host's one pass ranks as the float64 scores and topk do; ties, NaN, idle rows; errors") {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> whole(-6, 0);  // whole log-probs: many ties
  struct Case {
    int64_t N, V, blocks, count;
  };
  for (DType dtype : {DType::f32, DType::f64})
    for (const Case& c : {Case{1, 5, 1, 10}, Case{4, 37, 4, 10}, Case{20, 300, 4, 10}, Case{10, 64, 2, 3},
                          Case{6, 1000, 3, 1}}) {
      // Named copies, not a structured binding: clang 14 cannot capture one in INFO's lambda.
      const int64_t N = c.N, V = c.V, blocks = c.blocks, count = c.count;
      INFO(tg::dtype_name(dtype), " N=", N, " V=", V, " blocks=", blocks, " count=", count);
      std::vector<double> values(static_cast<size_t>(N * V));
      for (double& v : values) v = whole(rng);
      values[static_cast<size_t>(V / 2)] = NAN;                     // row 0: a NaN ranks first
      values[static_cast<size_t>(N * V - 2)] = INFINITY;             // the last row: +inf
      if (N > 2) values[static_cast<size_t>(2 * V + V - 1)] = NAN;  // row 2's last column
      std::vector<double> row_log_probs(static_cast<size_t>(N));
      for (double& r : row_log_probs) r = whole(rng) / 4.0;
      row_log_probs[static_cast<size_t>(N - 1)] = -INFINITY;  // an idle row (with its +inf: NaN)
      const Tensor log_probs = tg::from_vector(values, Shape{N, V}, {DType::f64}).to(dtype);
      const tg::translate::RankedBlocks host = tg::translate::rank_blocks(log_probs, row_log_probs, blocks, count);
      const tg::translate::RankedBlocks composed =
          tg::translate::rank_blocks_composed(log_probs, row_log_probs, blocks, count);
      CHECK(host.count == composed.count);
      CHECK(host.index == composed.index);
      REQUIRE(host.score.size() == composed.score.size());
      for (size_t j = 0; j < host.score.size(); ++j)
        CHECK(((std::isnan(host.score[j]) && std::isnan(composed.score[j])) || host.score[j] == composed.score[j]));
    }
  // Arguments that do not fit name what was expected, on both paths.
  const Tensor log_probs = tg::zeros({4, 7});
  for (auto rank : {&tg::translate::rank_blocks, &tg::translate::rank_blocks_composed}) {
    CHECK_THROWS_WITH_AS(rank(log_probs, {0, 0, 0}, 2, 3),
                         "rank_blocks: 3 row log-probs for log_probs of shape (4, 7): expected one per row", tg::Error);
    CHECK_THROWS_WITH_AS(rank(log_probs, {0, 0, 0, 0}, 3, 3),
                         "rank_blocks: 3 blocks for 4 rows: expected a positive count dividing the rows", tg::Error);
    CHECK_THROWS_WITH_AS(rank(tg::zeros({4}), {0, 0, 0, 0}, 2, 3),
                         "rank_blocks: log_probs must be (N, V), got shape (4,)", tg::Error);
  }
}

TEST_CASE("batched beam search: bad arguments name what was expected") {
  const Batch batch = batch_of(random_examples(3, 13, 11, 5, 5, 2));
  const int64_t S = batch.src.size(0);
  auto model = tg::translate::make_model(config_of("bahdanau", 13, 11, 5, 6, 0.0), 1);
  auto search = [&](int64_t beam, const std::vector<int64_t>& max_lens, double alpha) {
    return tg::translate::beam_search(*model, batch.src, batch.src_lengths, batch.src_mask, beam, max_lens, alpha);
  };
  CHECK_THROWS_WITH_AS(search(0, {5, 5, 5}, 1.0), doctest::Contains("beam_search: beam_size must be at least 1, got 0"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(search(2, {5, 5}, 1.0),
                       doctest::Contains("beam_search: max_lens must hold one limit per sentence (3), got 2"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(search(2, {5, 0, 5}, 1.0), doctest::Contains("beam_search: max_len must be at least 1, got 0"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(search(2, {5, 5, 5}, -0.5),
                       doctest::Contains("beam_search: length_penalty α must be >= 0, got -0.5"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::translate::beam_search(*model, batch.src, batch.src_lengths, batch.src_mask, 2, 0),
                       doctest::Contains("beam_search: max_len must be at least 1, got 0"), tg::Error);
  const std::string empty_message = "beam_search: src_lengths[1] must be in [1, " + std::to_string(S) +
                                    "] (every source needs at least one token), got 0";
  CHECK_THROWS_WITH_AS(
      tg::translate::beam_search(*model, batch.src, tg::index_tensor({2, 0, 1}, Shape{3}), batch.src_mask, 2, 5),
      doctest::Contains(empty_message.c_str()), tg::Error);
  CHECK_THROWS_WITH_AS(
      tg::translate::beam_search(*model, batch.src, tg::index_tensor({2, 1}, Shape{2}), batch.src_mask, 2, 5),
      doctest::Contains("beam_search: src_lengths must be int64 (3,)"), tg::Error);
}

TEST_CASE("normalized_score divides by length^alpha") {
  CHECK(tg::translate::normalized_score(-6.0, 3, 0.0) == -6.0);
  CHECK(tg::translate::normalized_score(-6.0, 3, 1.0) == doctest::Approx(-2.0));
  CHECK(tg::translate::normalized_score(-8.0, 4, 0.5) == doctest::Approx(-4.0));
  tg::translate::Hypothesis h;
  h.tokens = {5, 6};
  h.log_prob = -3;
  h.finished = true;
  CHECK(h.length() == 3);
  CHECK(tg::translate::normalized_score(h, 1.0) == doctest::Approx(-1.0));
  // GNMT's form: log p / ((5 + |Y|) / 6)^α; |Y| = 7 gives the divisor 2^α.
  using tg::translate::LengthPenalty;
  CHECK(tg::translate::normalized_score(-6.0, 7, LengthPenalty(1.0, true)) == doctest::Approx(-3.0));
  CHECK(tg::translate::normalized_score(-8.0, 7, LengthPenalty(2.0, true)) == doctest::Approx(-2.0));
  CHECK(tg::translate::normalized_score(-6.0, 1, LengthPenalty(0.6, true)) == doctest::Approx(-6.0));  // |Y| = 1: 1
  CHECK(tg::translate::normalized_score(-6.0, 7, LengthPenalty(0.0, true)) == -6.0);
  CHECK(LengthPenalty(0.6, true).str() == "gnmt α 0.6");
  CHECK(LengthPenalty(1.0).str() == "length^1");
}

TEST_CASE("Cho: the context's shares encoded once for decoding give the steps computed without them, bit for bit") {
  const Batch batch = batch_of(random_examples(4, 13, 11, 6, 7, 3));
  auto model = tg::translate::make_model(config_of("cho", 13, 11, 5, 6, 0.0), 4);
  model->eval();
  tg::translate::Encoded with_grad;
  {
    tg::Tape tape;
    tg::TapeScope scope(tape);
    with_grad = model->encode(batch.src, batch.src_lengths, batch.src_mask);  // training: no shares
  }
  CHECK_FALSE(with_grad.context_input.defined());
  tg::NoGrad no_grad;
  const tg::translate::Encoded shared = model->encode(batch.src, batch.src_lengths, batch.src_mask);
  REQUIRE(shared.context_input.defined());
  CHECK(shared.context_input.shape() == Shape{4, 18});  // (B, 3H)
  CHECK(shared.context_output.shape() == Shape{4, 11});  // (B, V)
  tg::translate::Encoded plain = shared;
  plain.context_input = plain.context_output = Tensor();
  Tensor hidden_shared = shared.initial_hidden, hidden_plain = plain.initial_hidden;
  Tensor prev = tg::index_tensor({1, 1, 1, 1}, Shape{4});
  for (int t = 0; t < 4; ++t) {
    const tg::translate::Step a = model->step(shared, prev, hidden_shared), b = model->step(plain, prev, hidden_plain);
    CHECK(max_abs_diff(a.log_probs, b.log_probs) == 0);
    CHECK(max_abs_diff(a.hidden, b.hidden) == 0);
    hidden_shared = a.hidden;
    hidden_plain = b.hidden;
    prev = tg::argmax(a.log_probs, 1);
  }
}

TEST_CASE("int8 decoding: steps near float32's for every model, forward unchanged, ensembles, models without it") {
  const Batch batch = batch_of(random_examples(5, 23, 29, 6, 7, 8));
  struct Case {
    const char* kind;
    bool tied;
    const char* cell = "gru";
  };
  for (const Case c : {Case{"cho", false}, Case{"bahdanau", false}, Case{"bahdanau", true}, Case{"cho", false, "lstm"},
                       Case{"bahdanau", true, "lstm"}, Case{"transformer", true}, Case{"transformer", false}}) {
    CAPTURE(c.kind);
    CAPTURE(c.tied);
    CAPTURE(c.cell);
    ModelConfig config = config_of(c.kind, 23, 29, 16, 24, 0.0);
    config.tie_embeddings = c.tied;
    config.cell = c.cell;
    auto model = tg::translate::make_model(config, 9);
    model->eval();
    tg::NoGrad no_grad;
    const Tensor logits_before = model->forward(batch);
    const tg::translate::Encoded encoded = model->encode(batch.src, batch.src_lengths, batch.src_mask);
    const Tensor prev = tg::index_tensor({1, 5, 7, 1, 9}, Shape{5});
    const tg::translate::Step exact = model->step(encoded, prev, encoded.initial_hidden);
    CHECK_FALSE(model->quantized_for_decoding());
    model->quantize_for_decoding();
    CHECK(model->quantized_for_decoding());
    const tg::translate::Step quantized = model->step(encoded, prev, encoded.initial_hidden);
    // The recurrent models' cells run int8 products too: their state moves a little. The Transformer
    // quantizes only its output layer: its state (the decoder's inputs so far) is float32's.
    const double state_moved = max_abs_diff(quantized.hidden, exact.hidden);
    if (std::string(c.kind) == "transformer") {
      CHECK(state_moved == 0);
    } else {
      CHECK(state_moved > 0);
      CHECK(state_moved < 0.02);
    }
    const double moved = max_abs_diff(quantized.log_probs, exact.log_probs);
    CHECK(moved > 0);
    CHECK(moved < 0.02);
    // The Transformer's forward keeps float32; the recurrent models' shares the int8 encoder with encode().
    const double forward_moved = max_abs_diff(model->forward(batch), logits_before);
    if (std::string(c.kind) == "transformer") {
      CHECK(forward_moved == 0);
    } else {
      CHECK(forward_moved > 0);
      CHECK(forward_moved < 0.05);
      tg::EnableGrad grad;
      CHECK_THROWS_WITH_AS(model->forward(batch), doctest::Contains("no gradient through int8 products"), tg::Error);  // no training through int8
    }
    // A search runs on it.
    CHECK(tg::translate::greedy_decode(*model, batch.src, batch.src_lengths, batch.src_mask, 6).size() == 5);
  }
  // An ensemble quantizes every member.
  std::vector<std::unique_ptr<Seq2Seq>> members;
  members.push_back(tg::translate::make_model(config_of("bahdanau", 23, 29, 16, 24, 0.0), 1));
  members.push_back(tg::translate::make_model(config_of("bahdanau", 23, 29, 16, 24, 0.0), 2));
  Seq2Seq* second = members[1].get();
  tg::translate::Ensemble ensemble(std::move(members));
  ensemble.quantize_for_decoding();
  CHECK(ensemble.quantized_for_decoding());
  CHECK(second->quantized_for_decoding());
  // A model of one's own without int8 decoding says so.
  struct Plain : tg::translate::BahdanauModel {
    using BahdanauModel::BahdanauModel;
    void quantize_for_decoding() override { Seq2Seq::quantize_for_decoding(); }
    std::string type_name() const override { return "MyModel"; }
  };
  Plain plain(config_of("bahdanau", 23, 29, 16, 24, 0.0));
  CHECK_THROWS_WITH_AS(plain.quantize_for_decoding(),
                       "MyModel: no int8 decoding for this model (quantize_for_decoding is not implemented)", tg::Error);
}

TEST_CASE("select_rows repeats rows of every defined tensor of an encoding") {
  const Batch batch = batch_of(random_examples(3, 13, 11, 5, 5, 2));
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(config_of(kind, 13, 11, 5, 6, 0.0), 1);
    tg::NoGrad no_grad;
    const tg::translate::Encoded e = model->encode(batch.src, batch.src_lengths, batch.src_mask);
    const tg::translate::Encoded r = tg::translate::select_rows(e, tg::index_tensor({2, 2, 0}, Shape{3}));
    CHECK(r.mask.shape() == Shape{3, batch.src.size(0)});
    CHECK(r.mask.dtype() == DType::boolean);
    CHECK(max_abs_diff(tg::select(r.initial_hidden, 0, 1), tg::select(e.initial_hidden, 0, 2)) == 0);
    CHECK(max_abs_diff(tg::select(r.initial_hidden, 0, 2), tg::select(e.initial_hidden, 0, 0)) == 0);
    CHECK(r.keys.defined() == (kind == "bahdanau"));
    CHECK(r.context.defined() == (kind == "cho"));
    CHECK(r.context_output.defined() == (kind == "cho"));
    if (kind == "cho") CHECK(max_abs_diff(tg::select(r.context_output, 0, 0), tg::select(e.context_output, 0, 2)) == 0);
    if (kind == "bahdanau") {
      CHECK(max_abs_diff(tg::select(r.projected_keys, 0, 0), tg::select(e.projected_keys, 0, 2)) == 0);
      CHECK(max_abs_diff(tg::select(r.mask, 0, 2), tg::select(e.mask, 0, 0)) == 0);
    }
  }
}

TEST_CASE("errors name what was expected and what was got") {
  ModelConfig bad = config_of("rnnsearch", 13, 11, 5, 6, 0.0);
  CHECK_THROWS_WITH_AS(tg::translate::make_model(bad, 1),
                       doctest::Contains("unknown model kind 'rnnsearch'; known kinds: cho, bahdanau, transformer"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::translate::make_model(config_of("cho", 13, 11, 0, 6, 0.0), 1),
                       doctest::Contains("ChoModel: embed and hidden must be positive, got embed=0 hidden=6"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::translate::make_model(config_of("bahdanau", 3, 11, 5, 6, 0.0), 1),
                       doctest::Contains("BahdanauModel: vocabularies need more than the 4 special tokens, got "
                                         "src_vocab=3"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::translate::make_model(config_of("cho", 13, 11, 5, 6, 1.0), 1),
                       doctest::Contains("dropout must be in [0, 1), got 1"), tg::Error);

  const Batch batch = batch_of(random_examples(3, 13, 11, 5, 5, 2));
  const int64_t S = batch.src.size(0);
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(config_of(kind, 13, 11, 5, 6, 0.0), 1);
    const std::string name = kind == "cho" ? "ChoModel" : "BahdanauModel";
    const std::string mask_message = name + ": src_mask must be bool (3, " + std::to_string(S) + ")";
    CHECK_THROWS_WITH_AS(model->encode(batch.src, batch.src_lengths, tg::ones({3, S})),
                         doctest::Contains(mask_message.c_str()), tg::Error);
    CHECK_THROWS_WITH_AS(model->encode(batch.src, tg::index_tensor({2, 2}, Shape{2}), batch.src_mask),
                         doctest::Contains("src_lengths must be int64 (3,)"), tg::Error);
    const tg::translate::Encoded e = model->encode(batch.src, batch.src_lengths, batch.src_mask);
    CHECK_THROWS_WITH_AS(model->step(e, tg::index_tensor({1, 1}, Shape{2}), e.initial_hidden),
                         doctest::Contains("prev_tokens must be int64 (3,) for an encoding of 3 sentences, got "
                                           "int64 (2,)"),
                         tg::Error);
    CHECK_THROWS_WITH_AS(model->step(e, tg::index_tensor({1, 1, 1}, Shape{3}), tg::zeros({3, 5})),
                         doctest::Contains("hidden must be (3, 6), got (3, 5)"), tg::Error);
    CHECK_THROWS_WITH_AS(tg::translate::beam_search(*model, {4, 5}, 0, 10),
                         doctest::Contains("beam_size must be at least 1, got 0"), tg::Error);
    CHECK_THROWS_WITH_AS(tg::translate::beam_search(*model, {}, 3, 10),
                         doctest::Contains("the source sentence is empty"), tg::Error);
    CHECK_THROWS_WITH_AS(
        tg::translate::greedy_decode(*model, batch.src, batch.src_lengths, batch.src_mask, 0),
        doctest::Contains("greedy_decode: max_len must be at least 1, got 0"), tg::Error);
  }
  CHECK_THROWS_WITH_AS(tg::translate::select_rows({}, tg::index_tensor({0}, Shape{1}).to(DType::f32)),
                       doctest::Contains("select_rows: rows must be int64 (N,), got float32 (1,)"), tg::Error);
}

// ---------------------------------------------------------------------------
// The LSTM cell (translate train --cell lstm)

ModelConfig lstm_config(const std::string& kind, int64_t src_vocab, int64_t tgt_vocab, int64_t embed, int64_t hidden,
                        double dropout) {
  ModelConfig c = config_of(kind, src_vocab, tgt_vocab, embed, hidden, dropout);
  c.cell = "lstm";
  return c;
}

TEST_CASE("cell lstm: LSTM encoder and decoder under 'lstm' names, state [h; c], encode + step equals forward") {
  const int64_t E = 8, H = 12;
  std::vector<Example> examples = random_examples(6, 17, 15, 7, 8, 11);
  const Batch batch = batch_of(examples);
  const int64_t B = batch.src.size(1), T = batch.tgt_in.size(0);
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(lstm_config(kind, 17, 15, E, H, 0.3), 5);
    CHECK(model->config().cell == "lstm");
    std::map<std::string, Shape> shapes;
    for (const auto& [name, t] : model->named_parameters()) {
      shapes[name] = t.shape();
      CHECK(name.find(".gru.") == std::string::npos);
    }
    CHECK(shapes.at("encoder.lstm.weight_ih_l0") == Shape{4 * H, E});
    CHECK(shapes.at("decoder.lstm.weight_hh") == Shape{4 * H, H});
    const int64_t context = kind == "cho" ? H : 2 * H;
    CHECK(shapes.at("decoder.lstm.weight_ih") == Shape{4 * H, E + context});
    if (kind == "bahdanau") CHECK(shapes.at("encoder.lstm.weight_hh_l0_reverse") == Shape{4 * H, H});

    model->eval();
    tg::NoGrad no_grad;
    const Tensor expected = tg::log_softmax(model->forward(batch), -1);  // (T, B, V)
    const tg::translate::Encoded encoded = model->encode(batch.src, batch.src_lengths, batch.src_mask);
    REQUIRE(encoded.initial_hidden.shape() == Shape{B, 2 * H});  // [h_0; c_0]
    CHECK(max_abs(tg::slice(encoded.initial_hidden, 1, H, 2 * H)) == 0);  // c_0 = 0
    Tensor hidden = encoded.initial_hidden;
    double worst = 0;
    for (int64_t t = 0; t < T; ++t) {
      const tg::translate::Step step = model->step(encoded, tg::select(batch.tgt_in, 0, t).contiguous(), hidden);
      worst = std::max(worst, max_abs_diff(step.log_probs, tg::select(expected, 0, t)));
      hidden = step.hidden;
      CHECK(hidden.shape() == Shape{B, 2 * H});
    }
    CHECK(worst < 1e-5);
    CHECK_THROWS_WITH_AS(model->step(encoded, tg::select(batch.tgt_in, 0, 0).contiguous(), tg::zeros({B, H})),
                         doctest::Contains("hidden must be (6, 24), got (6, 12)"), tg::Error);
  }
  ModelConfig bad = config_of("cho", 17, 15, E, H, 0.0);
  bad.cell = "rnn";
  CHECK_THROWS_WITH_AS(tg::translate::make_model(bad, 1), doctest::Contains("cell must be gru or lstm, got 'rnn'"),
                       tg::Error);
}

TEST_CASE("cell lstm: float64 gradient check of the teacher-forced loss") {
  std::vector<Example> examples(2);
  examples[0] = {{4, 5, 6}, {5, 6}};
  examples[1] = {{6, 4}, {4}};
  const Batch batch = batch_of(examples);
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = build(lstm_config(kind, 7, 7, 3, 4, 0.0), DType::f64, 9);
    std::map<std::string, Tensor> p;
    for (const auto& [name, t] : model->named_parameters()) p[name] = t;
    std::vector<Tensor> inputs = {p.at("encoder.lstm.weight_ih_l0"), p.at("decoder.lstm.weight_ih"),
                                  p.at("decoder.lstm.weight_hh"), p.at("decoder.init_state.weight")};
    if (kind == "bahdanau") inputs.push_back(p.at("encoder.lstm.weight_hh_l0_reverse"));
    const tg::GradcheckResult result =
        tg::gradcheck([&](const std::vector<Tensor>&) { return model->loss(batch); }, inputs);
    CHECK_MESSAGE(result.ok, result.message);
  }
}

TEST_CASE("cell lstm: a few Adam steps on Multi30k pairs reduce the loss") {
  const Corpus corpus = small_corpus(64);
  const Batch batch = batch_of(corpus.examples);
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    auto model = tg::translate::make_model(lstm_config(kind, corpus.src_vocab.size(), corpus.tgt_vocab.size(), 16, 32, 0.1), 3);
    const std::vector<double> losses = train(*model, batch, 25, 1e-2);
    MESSAGE(kind << " lstm: loss " << losses.front() << " -> " << losses.back());
    CHECK(std::isfinite(losses.back()));
    CHECK(losses.front() > std::log(static_cast<double>(corpus.tgt_vocab.size())) * 0.8);  // starts near chance
    CHECK(losses.back() < 0.75 * losses.front());
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Tied embeddings: the target embedding doubles as the output matrix.

TEST_CASE("tied embeddings: logits = (W_o x + b_o) E_tgtᵀ + b_v, gradients reach E_tgt from both uses") {
  ModelConfig config = config_of("bahdanau", 9, 8, 3, 4, 0.0);
  config.tie_embeddings = true;
  auto model = build(config, DType::f64, 3);
  std::map<std::string, Tensor> p;
  for (const auto& [name, t] : model->named_parameters()) p[name] = t;
  CHECK(p.at("decoder.out.weight").shape() == Shape{3, 4 + 8 + 3});  // (E, H + 2H + E)
  CHECK(p.at("decoder.out_bias").shape() == Shape{8});             // (V,)
  ModelConfig untied = config;
  untied.tie_embeddings = false;
  CHECK(build(untied, DType::f64, 3)->named_parameters().size() + 1 == model->named_parameters().size());

  // The logits by hand from the layer's parts.
  std::vector<Example> examples(2);
  examples[0] = {{4, 5, 6}, {5, 6}};
  examples[1] = {{6, 4}, {4}};
  const Batch batch = batch_of(examples);
  auto& bahdanau = dynamic_cast<BahdanauModel&>(*model);
  tg::Generator gen(5);
  tg::compute::copy_into(tg::randn({8}, {DType::f64}, gen), p.at("decoder.out_bias"));
  const Tensor features = tg::randn({5, 15}, {DType::f64}, gen);
  const Tensor by_hand = tg::matmul(bahdanau.decoder.out(features), tg::transpose(p.at("decoder.embed.weight"), 0, 1)) +
                         p.at("decoder.out_bias");
  CHECK(max_abs_diff(bahdanau.decoder.logits(features), by_hand.to_vector<double>()) < 1e-14);

  // float64 gradient check through both uses of E_tgt, and the bias.
  const std::vector<Tensor> inputs = {p.at("decoder.embed.weight"), p.at("decoder.out.weight"),
                                      p.at("decoder.out_bias"), p.at("decoder.gru.weight_ih")};
  const tg::GradcheckResult result =
      tg::gradcheck([&](const std::vector<Tensor>&) { return model->loss(batch); }, inputs);
  CHECK_MESSAGE(result.ok, result.message);

  // encode + step equals the teacher-forced path.
  tg::NoGrad no_grad;
  const Tensor expected = tg::log_softmax(model->forward(batch), -1);
  const tg::translate::Encoded encoded = model->encode(batch.src, batch.src_lengths, batch.src_mask);
  const tg::translate::Step step = model->step(encoded, tg::select(batch.tgt_in, 0, 0).contiguous(),
                                               encoded.initial_hidden);
  CHECK(max_abs_diff(step.log_probs, tg::select(expected, 0, 0)) < 1e-12);

  ModelConfig cho = config_of("cho", 9, 8, 3, 4, 0.0);
  cho.tie_embeddings = true;
  CHECK_THROWS_WITH_AS(build(cho, DType::f64, 3), doctest::Contains("tied embeddings are implemented for the bahdanau"),
                       tg::Error);
}

TEST_CASE("transformer: PyTorch's layer names, gradcheck of the loss, tied output, cached steps, ensembles, errors") {
  std::vector<Example> examples = random_examples(5, 13, 11, 6, 1, 3);
  const Batch batch = batch_of(examples);
  ModelConfig config = config_of("transformer", 13, 11, 4, 6, 0.0);
  auto model = build(config, DType::f64, 9);
  std::map<std::string, Tensor> p;
  for (const auto& [name, t] : model->named_parameters()) p[name] = t;
  for (const char* name : {"encoder.embed.weight", "encoder.layers.1.self_attn.in_proj_weight", "encoder.norm.weight",
                           "decoder.layers.0.multihead_attn.out_proj.weight", "decoder.layers.1.linear2.bias",
                           "decoder.norm.bias", "decoder.out.weight"}) {
    CAPTURE(name);
    CHECK(p.count(name) == 1);
  }
  CHECK(max_abs(tg::select(p.at("decoder.embed.weight"), 0, Vocab::pad_id)) == 0);  // <pad> row stays 0
  const tg::GradcheckResult result = tg::gradcheck(
      [&](const std::vector<Tensor>&) { return model->loss(batch); },
      {p.at("encoder.layers.0.self_attn.in_proj_weight"), p.at("decoder.layers.1.multihead_attn.in_proj_weight"),
       p.at("decoder.layers.0.linear1.weight"), p.at("encoder.norm.weight"), p.at("decoder.out.weight")});
  CHECK_MESSAGE(result.ok, result.message);

  // Post-norm and tied: the same step-by-step equality as the other models, and the tied gradient.
  config.norm_first = false;
  config.tie_embeddings = true;
  auto tied = tg::translate::make_model(config, 4);
  std::set<std::string> names;
  for (const auto& [name, t] : tied->named_parameters()) names.insert(name);
  CHECK(names.count("decoder.out_bias") == 1);
  CHECK(names.count("decoder.out.weight") == 0);
  {
    tg::NoGrad no_grad;
    tied->eval();
    const Tensor expected = tg::log_softmax(tied->forward(batch), -1);  // (T, B, V)
    const tg::translate::Encoded encoded = tied->encode(batch.src, batch.src_lengths, batch.src_mask);
    CHECK(encoded.keys.shape() == Shape{5, batch.src.size(0), 2 * 2 * 4});  // (B, S, L·2·d)
    Tensor hidden = encoded.initial_hidden;
    CHECK(hidden.shape() == Shape{5, 0});
    double worst = 0;
    for (int64_t t = 0; t < batch.tgt_in.size(0); ++t) {
      const tg::translate::Step step = tied->step(encoded, tg::select(batch.tgt_in, 0, t).contiguous(), hidden);
      worst = std::max(worst, max_abs_diff(step.log_probs, tg::select(expected, 0, t)));
      hidden = step.hidden;
      CHECK(hidden.shape() == Shape{5, (t + 1) * 2 * 2 * 4});  // one more cached position
    }
    CHECK(worst < 1e-5);
    CHECK_THROWS_WITH_AS(tied->step(encoded, tg::index_tensor({4, 4, 4, 4, 4}), tg::zeros({5, 7})),
                         doctest::Contains("the decoder state must be (B, t·16)"), tg::Error);
  }

  // An ensemble of two transformers: its states grow as each member's, and beam 1 is its greedy search.
  std::vector<std::unique_ptr<Seq2Seq>> members;
  members.push_back(tg::translate::make_model(config_of("transformer", 13, 11, 4, 6, 0.0), 1));
  members.push_back(tg::translate::make_model(config_of("transformer", 13, 11, 4, 6, 0.0), 2));
  tg::translate::Ensemble ensemble(std::move(members));
  const auto greedy = tg::translate::greedy_decode(ensemble, batch.src, batch.src_lengths, batch.src_mask, 7, true);
  const auto beam = tg::translate::beam_search(ensemble, batch.src, batch.src_lengths, batch.src_mask, 1, 7, 1.0, true);
  for (size_t i = 0; i < greedy.size(); ++i) {
    CAPTURE(i);
    CHECK(beam[i].tokens == greedy[i].tokens);
    CHECK(beam[i].log_prob == doctest::Approx(greedy[i].log_prob).epsilon(1e-5));
  }

  ModelConfig uneven = config_of("transformer", 13, 11, 6, 6, 0.0);
  uneven.heads = 4;
  CHECK_THROWS_WITH_AS(tg::translate::make_model(uneven, 1),
                       doctest::Contains("TransformerModel: the model size (embed 6) must be divisible by heads 4"),
                       tg::Error);
  uneven.heads = 2;
  uneven.layers = 0;
  CHECK_THROWS_WITH_AS(tg::translate::make_model(uneven, 1),
                       doctest::Contains("layers and heads must be positive, got layers=0 heads=2"), tg::Error);
}
