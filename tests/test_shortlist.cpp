// Vocabulary shortlists (apps/translate/shortlist.h): Model 1 learns a known
// dictionary, the file round-trips and refuses what is not its own, every
// model's restricted step gives the full step's scores renormalised over the
// shortlist (float and int8), and search on the whole vocabulary as a
// shortlist gives the search without one.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/translate/models/ensemble.h"
#include "apps/translate/search.h"
#include "apps/translate/shortlist.h"
#include "tapegrad.h"
#include "test_support.h"
#include "translation_helpers.h"

namespace {

using test_support::max_abs_diff;
using tg::Shape;
using tg::Tensor;
using tg::translate::Shortlist;
using tg::translate::ShortlistOptions;
using namespace translation_helpers;

Tensor ids_tensor(const std::vector<int64_t>& ids) {
  return tg::index_tensor(ids, Shape{static_cast<int64_t>(ids.size())});
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tapegrad_shortlist_" + name)).string();
}

// A corpus whose target sentences are a fixed dictionary's words of their
// source words (f -> d(f) = 4 + (f·7) mod (V - 4)), in reversed order,
// plus the frequent target word 4 ("the") in every sentence.
std::vector<Example> dictionary_corpus(int64_t count, int64_t V, int64_t* frequent_word) {
  std::vector<Example> pairs = random_examples(count, V, V, 6, 1, 3);
  *frequent_word = 4;
  for (Example& e : pairs) {
    e.tgt.clear();
    for (auto it = e.src.rbegin(); it != e.src.rend(); ++it) e.tgt.push_back(4 + (*it * 7) % (V - 4));
    e.tgt.push_back(*frequent_word);
  }
  return pairs;
}

}  // namespace

TEST_CASE("Model 1 learns a dictionary; the always-list holds the specials and the most frequent words") {
  const int64_t V = 40;
  int64_t the = 0;
  const std::vector<Example> pairs = dictionary_corpus(400, V, &the);
  const Vocab src = vocab_of_size(V, "s"), tgt = vocab_of_size(V, "t");
  const Shortlist list = Shortlist::build(pairs, src, tgt, {.frequent = 3, .best = 2, .iterations = 5});
  std::vector<bool> seen(V, false);
  for (const Example& e : pairs)
    for (int64_t f : e.src) seen[f] = true;
  int64_t checked = 0;
  for (int64_t f = 4; f < V; ++f) {
    if (!seen[f]) continue;
    CAPTURE(f);
    const std::vector<int64_t>& best = list.best(f);
    REQUIRE(best.size() == 2);
    CHECK(best[0] == 4 + (f * 7) % (V - 4));  // its translation first
    ++checked;
  }
  CHECK(checked > 20);
  CHECK(list.best(0).empty());  // <pad> never occurs
  // Specials 0..3 and the 3 most frequent target words: "the" first among them.
  const std::vector<int64_t>& always = list.always();
  CHECK(std::is_sorted(always.begin(), always.end()));
  for (int64_t special : {0, 1, 2, 3}) CHECK(std::count(always.begin(), always.end(), special) == 1);
  CHECK(std::count(always.begin(), always.end(), the) == 1);
  CHECK(always.size() <= 7);
  // A batch's vocabulary: the union, ascending.
  const std::vector<int64_t> union_ids = list.vocabulary(std::vector<int64_t>{5, 9});
  CHECK(std::is_sorted(union_ids.begin(), union_ids.end()));
  for (int64_t e : list.best(5)) CHECK(std::count(union_ids.begin(), union_ids.end(), e) == 1);
  for (int64_t e : always) CHECK(std::count(union_ids.begin(), union_ids.end(), e) == 1);
  CHECK(list.vocabulary(tg::index_tensor({5, 9, 5, 0}, Shape{2, 2})) == union_ids);  // a padded (S, B) batch
  // Bad options and ids are refused.
  CHECK_THROWS_WITH_AS(Shortlist::build(pairs, src, tgt, {.best = 0}), "shortlist: best must be at least 1, got 0",
                       tg::Error);
  std::vector<Example> bad = pairs;
  bad[2].tgt.push_back(V);
  CHECK_THROWS_WITH_AS(Shortlist::build(bad, src, tgt, {}),
                       "shortlist: pair 3 has target id 40, outside the vocabulary's 40 ids", tg::Error);
  CHECK_THROWS_WITH_AS(list.vocabulary(std::vector<int64_t>{V}),
                       "shortlist: source id 40 is outside the source vocabulary's 40 ids", tg::Error);
}

TEST_CASE("a shortlist file round-trips and refuses other vocabularies, bad lines and ids") {
  const int64_t V = 30;
  int64_t the = 0;
  const Vocab src = vocab_of_size(V, "s"), tgt = vocab_of_size(V, "t");
  const Shortlist list = Shortlist::build(dictionary_corpus(200, V, &the), src, tgt, {.frequent = 2, .best = 3});
  const std::string path = temp_path("roundtrip.shortlist");
  list.save(path);
  const Shortlist loaded = Shortlist::load(path, src, tgt);
  CHECK(loaded.always() == list.always());
  for (int64_t f = 0; f < V; ++f) CHECK(loaded.best(f) == list.best(f));
  CHECK(loaded.options().frequent == 2);
  CHECK(loaded.options().best == 3);

  // Another target vocabulary of the same size: refused by its fingerprint.
  CHECK_THROWS_WITH_AS(Shortlist::load(path, src, vocab_of_size(V, "u")),
                       doctest::Contains(":3: made for other vocabularies"), tg::Error);
  CHECK_THROWS_WITH_AS(Shortlist::load(path, vocab_of_size(V + 1, "s"), tgt),
                       doctest::Contains(":2: made for other vocabularies"), tg::Error);
  // Damaged files name the line.
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto write_with = [&](size_t index, const std::string& text) {
    std::vector<std::string> changed = lines;
    changed[index] = text;
    std::ofstream out(path);
    for (const std::string& line : changed) out << line << "\n";
  };
  write_with(7, "2: 5 99");
  CHECK_THROWS_WITH_AS(Shortlist::load(path, src, tgt),
                       doctest::Contains(":8: target id 99 is outside the target vocabulary's 30 ids"), tg::Error);
  write_with(7, "3: 5");
  CHECK_THROWS_WITH_AS(Shortlist::load(path, src, tgt),
                       doctest::Contains(":8: expected the line of source id 2"), tg::Error);
  write_with(7, "2: 5 x");
  CHECK_THROWS_WITH_AS(Shortlist::load(path, src, tgt), doctest::Contains(":8: expected target ids"), tg::Error);
  write_with(0, "tapegrad.vocab");
  CHECK_THROWS_WITH_AS(Shortlist::load(path, src, tgt), doctest::Contains("not a shortlist"), tg::Error);
  std::filesystem::remove(path);
}

TEST_CASE("Int8Linear::rows gives the full layer's columns bit for bit") {
  tg::Generator gen(5);
  const Tensor w = tg::normal({37, 20}, 0, 1, {tg::DType::f32}, gen), b = tg::normal({37}, 0, 1, {tg::DType::f32}, gen);
  const Tensor x = tg::normal({6, 20}, 0, 1, {tg::DType::f32}, gen);
  const tg::Int8Linear full = tg::Int8Linear::quantize(w, b);
  const Tensor ids = ids_tensor({0, 3, 4, 31, 32, 36, 3});
  const tg::Int8Linear part = full.rows(ids);
  CHECK(part.out_features() == 7);
  CHECK(max_abs_diff(part(x), tg::index_select(full(x), 1, ids)) == 0);
  CHECK_THROWS_WITH_AS(full.rows(ids_tensor({37})), doctest::Contains("row 37 is outside the weight's 37 rows"),
                       tg::Error);
}

TEST_CASE("restricted steps: every model's log-probabilities over the shortlist are the full ones renormalised") {
  const int64_t V_src = 23, V = 29;
  const Batch batch = batch_of(random_examples(5, V_src, V, 6, 7, 8));
  struct Case {
    const char* kind;
    bool tied;
    const char* cell = "gru";
  };
  const Tensor partial = ids_tensor({0, 1, 2, 3, 5, 8, 13, 21, 28});
  std::vector<int64_t> every(V);
  for (int64_t i = 0; i < V; ++i) every[i] = i;
  for (const Case c : {Case{"cho", false}, Case{"bahdanau", false}, Case{"bahdanau", true}, Case{"cho", false, "lstm"},
                       Case{"bahdanau", true, "lstm"}, Case{"transformer", true}, Case{"transformer", false}}) {
    for (const bool quantized : {false, true}) {
      CAPTURE(c.kind);
      CAPTURE(c.tied);
      CAPTURE(c.cell);
      CAPTURE(quantized);
      ModelConfig config = config_of(c.kind, V_src, V, 16, 24, 0.0);
      config.tie_embeddings = c.tied;
      config.cell = c.cell;
      auto model = tg::translate::make_model(config, 9);
      model->eval();
      if (quantized) model->quantize_for_decoding();
      tg::NoGrad no_grad;
      const tg::translate::Encoded encoded = model->encode(batch.src, batch.src_lengths, batch.src_mask);
      const Tensor prev = tg::index_tensor({1, 5, 7, 1, 9}, Shape{5});
      Tensor hidden = encoded.initial_hidden;
      const tg::translate::Step full = model->step(encoded, prev, hidden);
      // Cho's per-sentence output share restricted too (encoded for decoding), and computed per step without it.
      tg::translate::Encoded plain = encoded;
      plain.context_input = plain.context_output = Tensor();
      for (const tg::translate::Encoded* e : std::vector<const tg::translate::Encoded*>{&encoded, &plain}) {
        const tg::translate::Encoded whole = model->restrict_output(*e, ids_tensor(every));
        const tg::translate::Step all = model->step(whole, prev, hidden);
        CHECK(all.log_probs.shape() == Shape{5, V});
        CHECK(max_abs_diff(all.log_probs, full.log_probs) < 1e-5);
        CHECK(max_abs_diff(all.hidden, full.hidden) == 0);
        const tg::translate::Encoded restricted = model->restrict_output(*e, partial);
        const tg::translate::Step some = model->step(restricted, prev, hidden);
        CHECK(some.log_probs.shape() == Shape{5, 9});
        const Tensor expected = tg::log_softmax(tg::index_select(full.log_probs, 1, partial), -1);
        CHECK(max_abs_diff(some.log_probs, expected) < 1e-5);
        // The restriction travels with select_rows (beam search repeats rows).
        const tg::translate::Encoded repeated = tg::translate::select_rows(restricted, tg::index_tensor({0, 0}, Shape{2}));
        CHECK(repeated.shortlist == restricted.shortlist);
      }
    }
  }
}

TEST_CASE("search on a shortlist: the whole vocabulary gives the search without one; a partial list only its words") {
  const int64_t V_src = 23, V = 29;
  const Batch batch = batch_of(random_examples(6, V_src, V, 6, 7, 4));
  const Vocab src = vocab_of_size(V_src, "s"), tgt = vocab_of_size(V, "t");
  int64_t the = 0;
  std::vector<Example> pairs = dictionary_corpus(300, V_src, &the);
  for (Example& e : pairs)
    for (int64_t& id : e.tgt) id = id % V;
  const auto partial = std::make_shared<const Shortlist>(Shortlist::build(pairs, src, tgt, {.frequent = 2, .best = 2}));
  const auto whole = std::make_shared<const Shortlist>(Shortlist::whole(src, tgt));
  for (const std::string kind : {"cho", "bahdanau", "transformer"}) {
    for (const bool quantized : {false, true}) {
      CAPTURE(kind);
      CAPTURE(quantized);
      auto model = tg::translate::make_model(config_of(kind, V_src, V, 16, 24, 0.0), 3);
      model->eval();
      if (quantized) model->quantize_for_decoding();
      const auto greedy = [&] { return tg::translate::greedy_decode(*model, batch.src, batch.src_lengths, batch.src_mask, 8); };
      const auto beam = [&] {
        return tg::translate::beam_search(*model, batch.src, batch.src_lengths, batch.src_mask, 3, 8);
      };
      const std::vector<tg::translate::Hypothesis> greedy_plain = greedy(), beam_plain = beam();
      model->use_shortlist(whole);
      const std::vector<tg::translate::Hypothesis> greedy_whole = greedy(), beam_whole = beam();
      for (size_t b = 0; b < greedy_plain.size(); ++b) {
        CHECK(greedy_whole[b].tokens == greedy_plain[b].tokens);
        CHECK(greedy_whole[b].log_prob == doctest::Approx(greedy_plain[b].log_prob).epsilon(1e-5));
        CHECK(beam_whole[b].tokens == beam_plain[b].tokens);
        CHECK(beam_whole[b].log_prob == doctest::Approx(beam_plain[b].log_prob).epsilon(1e-5));
      }
      model->use_shortlist(partial);
      const std::vector<int64_t> allowed = partial->vocabulary(batch.src);
      CHECK(allowed.size() < static_cast<size_t>(V));
      for (const std::vector<tg::translate::Hypothesis>& hyps : {greedy(), beam()})
        for (const tg::translate::Hypothesis& h : hyps)
          for (int64_t token : h.tokens) CHECK(std::binary_search(allowed.begin(), allowed.end(), token));
      model->use_shortlist(nullptr);
      CHECK(greedy()[0].tokens == greedy_plain[0].tokens);
    }
  }
  // An ensemble restricts every member.
  std::vector<std::unique_ptr<Seq2Seq>> members;
  members.push_back(tg::translate::make_model(config_of("bahdanau", V_src, V, 16, 24, 0.0), 1));
  members.push_back(tg::translate::make_model(config_of("bahdanau", V_src, V, 16, 24, 0.0), 2));
  tg::translate::Ensemble ensemble(std::move(members));
  ensemble.eval();
  const auto plain = tg::translate::beam_search(ensemble, batch.src, batch.src_lengths, batch.src_mask, 3, 8);
  ensemble.use_shortlist(whole);
  const auto listed = tg::translate::beam_search(ensemble, batch.src, batch.src_lengths, batch.src_mask, 3, 8);
  for (size_t b = 0; b < plain.size(); ++b) CHECK(listed[b].tokens == plain[b].tokens);
}

TEST_CASE("a model of one's own without shortlist decoding says so") {
  struct Plain : tg::translate::BahdanauModel {
    using BahdanauModel::BahdanauModel;
    tg::translate::Encoded restrict_output(const tg::translate::Encoded& e, const Tensor& ids) const override {
      return Seq2Seq::restrict_output(e, ids);
    }
    std::string type_name() const override { return "MyModel"; }
  };
  Plain plain(config_of("bahdanau", 23, 29, 16, 24, 0.0));
  CHECK_THROWS_WITH_AS(plain.restrict_output({}, ids_tensor({0})),
                       "MyModel: no shortlist decoding for this model (restrict_output is not implemented)", tg::Error);
}
