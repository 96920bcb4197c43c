// BLEU: multi-bleu.perl's corpus BLEU and the sacreBLEU-style figure, on
// hand-worked cases and against tests/fixtures/make_bleu_fixtures.py (an
// independent Python rendering of both scripts) on perturbed Multi30k text.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"

using namespace tg;
using namespace tg::text;

namespace {

using test_support::have_multi30k;
using test_support::multi30k_dir;

// The damage make_bleu_fixtures.py does: word j of line i becomes "xyzzy" when
// (3i + j) % 11 == 0 and is dropped when (7i + j) % 6 == 0; every 50th line
// is emptied; the first two words swap when i % 3 == 1. Words are split on
// single spaces, as Python's str.split(' ').
std::vector<std::string> perturb(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t k = 0; k <= lines[i].size(); ++k)
      if (k == lines[i].size() || lines[i][k] == ' ') {
        fields.push_back(lines[i].substr(start, k - start));
        start = k + 1;
      }
    std::vector<std::string> words;
    for (size_t j = 0; j < fields.size(); ++j) {
      if ((7 * i + j) % 6 == 0) continue;
      words.push_back((3 * i + j) % 11 == 0 ? "xyzzy" : fields[j]);
    }
    if (i % 3 == 1 && words.size() >= 2) std::swap(words[0], words[1]);
    std::string joined;
    for (size_t j = 0; j < words.size(); ++j) joined += (j ? " " : "") + words[j];
    out.push_back(i % 50 == 0 ? "" : joined);
  }
  return out;
}

void check_score(const BleuScore& s, double score, std::array<double, 4> p, double bp, int64_t hyp_len,
                 int64_t ref_len) {
  CHECK(s.score == doctest::Approx(score).epsilon(1e-10));
  for (int n = 0; n < 4; ++n) CHECK(s.precisions[n] == doctest::Approx(p[n]).epsilon(1e-10));
  CHECK(s.bp == doctest::Approx(bp).epsilon(1e-12));
  CHECK(s.hyp_len == hyp_len);
  CHECK(s.ref_len == ref_len);
}

}  // namespace

TEST_CASE("a perfect hypothesis scores 100") {
  const std::vector<std::string> ref = {"the cat is on the mat", "a dog runs in the park ."};
  for (const BleuScore& s : {multi_bleu(ref, ref), sacre_bleu(ref, ref)}) {
    CHECK(s.score == doctest::Approx(100.0));
    CHECK(s.bp == 1.0);
    CHECK(s.ratio == 1.0);
    CHECK(s.hyp_len == 13);
  }
  CHECK(multi_bleu(ref, ref).str() == "BLEU = 100.00, 100.0/100.0/100.0/100.0 (BP=1.000, ratio=1.000, hyp_len=13, ref_len=13)");
}

TEST_CASE("n-gram counts are clipped by the reference: 'the the the the the the the'") {
  const std::vector<std::string> hyp = {"the the the the the the the"}, ref = {"the cat is on the mat"};
  // "the" is counted at most twice (its count in the reference): p1 = 2/7; no bigram matches.
  const BleuScore m = multi_bleu(hyp, ref);
  CHECK(m.correct[0] == 2);
  CHECK(m.total[0] == 7);
  CHECK(m.precisions[0] == doctest::Approx(100.0 * 2 / 7));
  CHECK(m.precisions[1] == 0.0);
  CHECK(m.score == 0.0);  // multi-bleu: any zero precision gives 0
  CHECK(m.ratio == doctest::Approx(7.0 / 6));
  // exp smoothing: the k-th empty order counts 1/2^k matches: 1/(2*6), 1/(4*5), 1/(8*4).
  const BleuScore s = sacre_bleu(hyp, ref);
  const double expected = std::exp((std::log(200.0 / 7) + std::log(100.0 / 12) + std::log(100.0 / 20) + std::log(100.0 / 32)) / 4);
  check_score(s, expected, {200.0 / 7, 100.0 / 12, 5.0, 3.125}, 1.0, 7, 6);
  CHECK(s.score == doctest::Approx(7.809849842300637).epsilon(1e-12));  // make_bleu_fixtures.py
}

TEST_CASE("clipping uses the largest count over all references") {
  const std::vector<std::string> hyp = {"the the the"};
  const BleuScore s = multi_bleu(hyp, std::vector<std::vector<std::string>>{{"the cat"}, {"the the dog"}});
  CHECK(s.correct[0] == 2);  // max(1, 2)
  CHECK(s.total[0] == 3);
  CHECK(s.correct[1] == 1);  // "the the" once in the second reference
}

TEST_CASE("brevity penalty: shorter hypothesis is penalised, longer is not") {
  // hypothesis 6 words, reference 8, every n-gram matches: BLEU = exp(1 - 8/6)
  const BleuScore short_hyp = multi_bleu({"a b c d e f"}, std::vector<std::string>{"a b c d e f g h"});
  check_score(short_hyp, 100 * std::exp(1.0 - 8.0 / 6), {100, 100, 100, 100}, std::exp(-1.0 / 3), 6, 8);
  CHECK(short_hyp.str() == "BLEU = 71.65, 100.0/100.0/100.0/100.0 (BP=0.717, ratio=0.750, hyp_len=6, ref_len=8)");
  // 10 words against 8: BP = 1, p = 8/10, 7/9, 6/8, 5/7 whose product is 1/3.
  const BleuScore long_hyp = multi_bleu({"a b c d e f g h x y"}, std::vector<std::string>{"a b c d e f g h"});
  check_score(long_hyp, 100 * std::pow(1.0 / 3, 0.25), {80, 700.0 / 9, 75, 500.0 / 7}, 1.0, 10, 8);
  CHECK(long_hyp.ratio == doctest::Approx(1.25));
}

TEST_CASE("the reference length is the closest one, ties going to the shorter") {
  const std::vector<std::string> hyp = {"a b c d e"};
  for (const auto& refs : {std::vector<std::vector<std::string>>{{"a b c d"}, {"a b c d e f"}},
                           std::vector<std::vector<std::string>>{{"a b c d e f"}, {"a b c d"}}}) {
    const BleuScore s = multi_bleu(hyp, refs);
    CHECK(s.ref_len == 4);
    CHECK(s.score == doctest::Approx(100.0));  // every n-gram is in one of the references
    CHECK(sacre_bleu(hyp, refs).ref_len == 4);
  }
  CHECK(multi_bleu(hyp, std::vector<std::vector<std::string>>{{"a b c"}, {"a b c d e f g"}}).ref_len == 3);
}

TEST_CASE("a zero 4-gram precision: multi-bleu gives 0, sacreBLEU smooths") {
  // p1 = 7/9, p2 = 4/7, p3 = 1/5, p4 = 0/3 (worked out by hand; make_bleu_fixtures.py agrees)
  const std::vector<std::string> hyp = {"a b c x", "p q r s t"}, ref = {"a b c d", "p q x s t"};
  check_score(multi_bleu(hyp, ref), 0.0, {700.0 / 9, 400.0 / 7, 20, 0}, 1.0, 9, 9);
  CHECK(multi_bleu(hyp, ref).str() == "BLEU = 0.00, 77.8/57.1/20.0/0.0 (BP=1.000, ratio=1.000, hyp_len=9, ref_len=9)");
  check_score(sacre_bleu(hyp, ref), 34.88783797973686, {700.0 / 9, 400.0 / 7, 20, 100.0 / 6}, 1.0, 9, 9);
  // a 3-word corpus has no 4-grams at all: sacreBLEU stops there and the score is 0
  CHECK(sacre_bleu({"the cat sat"}, std::vector<std::string>{"the cat sat"}).score == 0.0);
}

TEST_CASE("an empty hypothesis scores 0 with brevity penalty 0") {
  const BleuScore m = multi_bleu({""}, std::vector<std::string>{"a b c"});
  check_score(m, 0.0, {0, 0, 0, 0}, 0.0, 0, 3);
  const BleuScore s = sacre_bleu({""}, std::vector<std::string>{"a b c"});
  check_score(s, 0.0, {0, 0, 0, 0}, 0.0, 0, 3);
  CHECK(m.str() == "BLEU = 0.00, 0.0/0.0/0.0/0.0 (BP=0.000, ratio=0.000, hyp_len=0, ref_len=3)");
}

TEST_CASE("lowercase: multi-bleu -lc folds ASCII only, sacreBLEU all letters") {
  const std::vector<std::string> hyp = {"THE CAT IS ON THE MAT"}, ref = {"the cat is on the mat"};
  CHECK(multi_bleu(hyp, ref).score == 0.0);
  CHECK(multi_bleu(hyp, ref, true).score == doctest::Approx(100.0));
  const std::vector<std::string> de_hyp = {"ÄPFEL UND BÄUME IM GRÜNEN"}, de_ref = {"äpfel und bäume im grünen"};
  CHECK(multi_bleu(de_hyp, de_ref, true).correct[0] == 2);  // only "und", "im": Perl's lc on bytes leaves Ä
  CHECK(sacre_bleu(de_hyp, de_ref, {"13a", true}).score == doctest::Approx(100.0));
  CHECK(sacre_bleu(de_hyp, de_ref, {"13a", true}).signature ==
        "nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.x|computed-by:tapegrad");
}

TEST_CASE("the 13a tokenizer splits as sacreBLEU's does") {
  // expectations printed by make_bleu_fixtures.py (Python's re on sacreBLEU's patterns)
  CHECK(tokenize_13a("Hello, world!") == "Hello , world !");
  CHECK(tokenize_13a("It's 5,000.50 dollars.") == "It's 5,000.50 dollars .");
  CHECK(tokenize_13a("&quot;Hi&quot; &amp; bye <b>") == "\" Hi \" & bye < b >");
  CHECK(tokenize_13a("1990-1995 e-mail") == "1990 - 1995 e-mail");
  CHECK(tokenize_13a("U.S.A. (etc.)") == "U . S . A . ( etc . )");
  CHECK(tokenize_13a("a.b,c 3.x x.3 3,x") == "a . b , c 3 . x x . 3 3 , x");
  CHECK(tokenize_13a("Zwei Männer, 2 Hunde.") == "Zwei Männer , 2 Hunde .");
  // the signature says what was computed, and by whom
  CHECK(sacre_bleu({"a"}, std::vector<std::string>{"a"}).signature ==
        "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x|computed-by:tapegrad");
}

TEST_CASE("bad input: mismatched line counts and unknown tokenizers") {
  CHECK_THROWS_WITH_AS(multi_bleu({"a", "b"}, std::vector<std::string>{"a"}),
                       doctest::Contains("reference set 0 has 1 lines but there are 2 hypotheses"), tg::Error);
  CHECK_THROWS_WITH_AS(sacre_bleu({"a"}, std::vector<std::string>{"a"}, {"intl", false}),
                       doctest::Contains("tokenize 'intl' not supported; expected '13a' or 'none'"), tg::Error);
  CHECK_THROWS_WITH_AS(multi_bleu({"a"}, std::vector<std::vector<std::string>>{}),
                       doctest::Contains("no reference sets given"), tg::Error);
}

TEST_CASE("corpus scores on perturbed Multi30k match the independent Python values") {
  if (!have_multi30k()) return;
  const std::string dir = multi30k_dir();
  const auto tok = read_lines(dir + "/test_2016_flickr.lc.norm.tok.en.gz");
  const auto raw = read_lines(dir + "/test_2016_flickr.en.gz");
  // numbers from tests/fixtures/make_bleu_fixtures.py
  check_score(multi_bleu(perturb(tok), tok), 39.622725461561984,
              {91.04168627081961, 62.423551363118065, 42.59836160147687, 24.573956029660465}, 0.8022877493127781,
              10627, 12968);
  check_score(multi_bleu(perturb(raw), raw, true), 39.62251922896783,
              {90.97450657894737, 62.28852309099223, 42.85530381050464, 24.558043606364173}, 0.8017898666498117,
              9728, 11877);
  check_score(sacre_bleu(perturb(raw), raw), 41.59105980552151,
              {91.6524054002662, 65.38058293143217, 45.67655994391213, 27.61942465030351}, 0.7931855963197687,
              10518, 12955);
  check_score(sacre_bleu(perturb(raw), raw, {"13a", true}), 41.6063487838861,
              {91.6524054002662, 65.41203606626127, 45.69992989016125, 27.6326207442597}, 0.7931855963197687,
              10518, 12955);
  check_score(sacre_bleu(perturb(raw), raw, {"none", false}), 39.605171010000674,
              {90.97450657894737, 62.254229538180155, 42.82955715756952, 24.54331172657631}, 0.8017898666498117,
              9728, 11877);
}
