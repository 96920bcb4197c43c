// The speech recogniser's parts (apps/speech): characters,
// CTC decoding (greedy and prefix beam search, with and without the character
// language model) on hand-made log-probabilities and against the search it
// replaced on random ones, 30 minutes of frames decoded in linear time, the
// language model's probabilities, SpecAugment's masks, edit distances, error
// rates and their substitutions/deletions/insertions, and on a tiny
// synthesized corpus (scripts/synthesize-speech.sh --tiny): features, batches,
// a few training steps whose CTC loss falls, a checkpoint that gives the same
// log-probabilities.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "apps/speech/char_lm.h"
#include "kernels/ctc_loss/ctc_recursion.h"  // tg::ctc::log_add
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"
#include "apps/speech/speech_model.h"
#include "apps/speech/speech_svg.h"
#include "apps/speech/transcript_formats.h"
#include "tapegrad.h"

namespace {

// Log-probabilities (frames, 29) putting probability 0.9 on one class per frame.
std::vector<float> peaked(const std::vector<int64_t>& classes_per_frame) {
  std::vector<float> rows;
  for (const int64_t c : classes_per_frame)
    for (int64_t k = 0; k < tg::speech::kClasses; ++k)
      rows.push_back(static_cast<float>(std::log(k == c ? 0.9 : 0.1 / (tg::speech::kClasses - 1))));
  return rows;
}

// Log-softmax rows (frames, 29) of random logits N(0, scale²): a small scale
// leaves every label likely, a large one one or two, so pruning at ln 1e-4
// both keeps and drops labels. With `few`, only the blank and three labels
// are likely: repeats, and prefixes reached two ways, are frequent.
std::vector<float> random_rows(int64_t frames, double scale, bool few, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  std::uniform_int_distribution<int64_t> label(1, tg::speech::kClasses - 1);
  std::vector<float> rows;
  std::vector<double> logits(tg::speech::kClasses);
  const std::vector<int64_t> likely{tg::speech::kBlank, label(rng), label(rng), label(rng)};
  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t c = 0; c < tg::speech::kClasses; ++c) {
      const bool unlikely = few && std::find(likely.begin(), likely.end(), c) == likely.end();
      logits[static_cast<size_t>(c)] = normal(rng) - (unlikely ? 12.0 : 0.0);
    }
    double sum = 0;
    const double top = *std::max_element(logits.begin(), logits.end());
    for (const double z : logits) sum += std::exp(z - top);
    for (const double z : logits) rows.push_back(static_cast<float>(z - top - std::log(sum)));
  }
  return rows;
}

// The former prefix beam search, kept as the reference the
// trie version must agree with: each prefix a std::vector key of a std::map,
// copied and compared per frame and class, so a frame costs O(prefix length)
// and a decode O(frames²).
std::string reference_context_of(const std::vector<int64_t>& prefix, const tg::speech::CharLM& lm) {
  const size_t keep = std::min(prefix.size(), static_cast<size_t>(lm.order() - 1));
  return tg::speech::decode_ids(std::vector<int64_t>(prefix.end() - static_cast<std::ptrdiff_t>(keep), prefix.end()));
}

std::vector<int64_t> reference_prefix_beam_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes,
                                                  int64_t width, const tg::speech::LMFusion& fusion = {}) {
  constexpr double none = -std::numeric_limits<double>::infinity();
  constexpr float kPrune = -9.2f;  // ln 1e-4
  struct Score {
    double blank = none, label = none;  // CTC: ending in a blank / in its last label
    double lm = 0;                      // weight · ln P_lm(prefix) + bonus · |prefix|
    double ctc() const { return tg::ctc::log_add(blank, label); }
    double total() const { return ctc() + lm; }
  };
  std::map<std::vector<int64_t>, Score> beams{{{}, Score{0.0, none, 0}}};
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = log_probs.data() + t * classes;
    std::map<std::vector<int64_t>, Score> next;
    for (const auto& [prefix, score] : beams) {
      Score& same = next.try_emplace(prefix, Score{none, none, score.lm}).first->second;
      same.blank = tg::ctc::log_add(same.blank, score.ctc() + row[tg::speech::kBlank]);  // a blank keeps the prefix
      if (!prefix.empty())  // the last label again, merged
        same.label = tg::ctc::log_add(same.label, score.label + row[prefix.back()]);
      const std::string context = fusion.lm ? reference_context_of(prefix, *fusion.lm) : std::string();
      for (int64_t c = 1; c < classes; ++c) {
        if (row[c] < kPrune) continue;  // a label this unlikely here cannot lead a beam
        std::vector<int64_t> longer = prefix;
        longer.push_back(c);
        auto [it, fresh] = next.try_emplace(longer, Score{none, none, 0});
        Score& grown = it->second;
        if (fresh && fusion.lm)
          grown.lm = score.lm + fusion.weight * fusion.lm->log_prob(context, tg::speech::decode_ids({c})[0]) + fusion.bonus;
        // A repeat of the last label extends only across a blank.
        const double from = !prefix.empty() && prefix.back() == c ? score.blank : score.ctc();
        grown.label = tg::ctc::log_add(grown.label, from + row[c]);
      }
    }
    std::vector<std::pair<double, std::vector<int64_t>>> ranked;
    for (const auto& [prefix, score] : next) ranked.emplace_back(score.total(), prefix);
    const size_t keep = std::min(ranked.size(), static_cast<size_t>(width));
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    beams.clear();
    for (size_t i = 0; i < keep; ++i) beams[ranked[i].second] = next[ranked[i].second];
  }
  auto final_score = [&](const std::pair<const std::vector<int64_t>, Score>& beam) {
    if (!fusion.lm) return beam.second.total();
    return beam.second.total() +
           fusion.weight * fusion.lm->log_prob(reference_context_of(beam.first, *fusion.lm), tg::speech::CharLM::kEnd);
  };
  const auto best = std::max_element(beams.begin(), beams.end(),
                                     [&](const auto& a, const auto& b) { return final_score(a) < final_score(b); });
  return best->first;
}

// Output frames of `minutes` of audio: 100 feature frames a second (hop 160
// at 16 kHz), then the front-end's stride 2.
int64_t output_frames(int64_t minutes) {
  return tg::speech::Recognizer::frames_after(minutes * 60 * 16000 / tg::speech::mel_options().hop_length);
}

}  // namespace

TEST_CASE("plan_batches: batches of neighbours in the given lengths, every utterance once; seed 0 sorted, a seed shuffles whole batches") {
  const std::vector<double> lengths = {5, 1, 9, 3, 7, 2, 8, 4, 6, 0};
  const std::vector<std::vector<size_t>> sorted = tg::speech::plan_batches(lengths, 3, 0);
  REQUIRE(sorted.size() == 4);
  CHECK(sorted[0] == std::vector<size_t>{9, 1, 5});
  CHECK(sorted[1] == std::vector<size_t>{3, 7, 0});
  CHECK(sorted[2] == std::vector<size_t>{8, 4, 6});
  CHECK(sorted[3] == std::vector<size_t>{2});
  std::vector<std::vector<size_t>> shuffled = tg::speech::plan_batches(lengths, 3, 7);
  CHECK(shuffled == tg::speech::plan_batches(lengths, 3, 7));
  std::sort(shuffled.begin(), shuffled.end());
  std::vector<std::vector<size_t>> expected = sorted;
  std::sort(expected.begin(), expected.end());
  CHECK(shuffled == expected);
}

TEST_CASE("characters: encode and decode; a character outside the set is named") {
  const std::vector<int64_t> ids = tg::speech::encode_text("it's a dog");
  CHECK(ids.size() == 10);
  CHECK(tg::speech::decode_ids(ids) == "it's a dog");
  CHECK_THROWS_WITH_AS(tg::speech::encode_text("dog!"), doctest::Contains("'!' in \"dog!\" is not a character"), tg::Error);
}

TEST_CASE("CTC decoding: repeats merge, blanks separate, prefix beam search agrees on a clear case") {
  const std::vector<int64_t> a = tg::speech::encode_text("a"), b = tg::speech::encode_text("b");
  // frames: a a ∅ a b b ∅  ->  "aab"
  const std::vector<int64_t> frames{a[0], a[0], tg::speech::kBlank, a[0], b[0], b[0], tg::speech::kBlank};
  const std::vector<float> rows = peaked(frames);
  CHECK(tg::speech::decode_ids(tg::speech::greedy_decode(rows, 7, tg::speech::kClasses)) == "aab");
  CHECK(tg::speech::decode_ids(tg::speech::prefix_beam_decode(rows, 7, tg::speech::kClasses, 8)) == "aab");
  // Where greedy and the sum over alignments differ: frame 0 splits between "a" (0.4) and blank (0.35)…
  // prefix beam search finds the prefix most alignments spell.
  std::vector<float> mixed(2 * tg::speech::kClasses, std::log(1e-6f));
  mixed[tg::speech::kBlank] = std::log(0.35f), mixed[a[0]] = std::log(0.4f), mixed[b[0]] = std::log(0.25f);
  mixed[tg::speech::kClasses + tg::speech::kBlank] = std::log(0.6f), mixed[tg::speech::kClasses + b[0]] = std::log(0.4f);
  CHECK(tg::speech::decode_ids(tg::speech::greedy_decode(mixed, 2, tg::speech::kClasses)) == "a");
  // "b": 0.25·0.6 + 0.25·0.4 + 0.35·0.4 = 0.39 beats "a": 0.4·0.6 = 0.24 and "ab": 0.4·0.4 = 0.16.
  CHECK(tg::speech::decode_ids(tg::speech::prefix_beam_decode(mixed, 2, tg::speech::kClasses, 8)) == "b");
}

TEST_CASE("the alignment picture places each character where the greedy path emits it") {
  const std::vector<int64_t> a = tg::speech::encode_text("a"), b = tg::speech::encode_text("b");
  const std::vector<float> rows = peaked({a[0], a[0], tg::speech::kBlank, b[0]});
  const std::string svg = tg::speech::alignment_svg(tg::zeros({8, 4}), rows, 4, 2, "\"ab\"");
  CHECK(svg.find("<svg") == 0);
  CHECK(svg.find("&quot;ab&quot;") != std::string::npos);  // the title, escaped
  // 'a' at output frame 0 (input frames 0-1), 'b' at output frame 3 (input frames 6-7): x = 50 + (2t + 0.5)·3.
  CHECK(svg.find("x=\"51.5\" y=\"48\" font-size=\"13\" text-anchor=\"middle\" fill=\"#c03030\">a<") != std::string::npos);
  CHECK(svg.find("x=\"69.5\" y=\"48\" font-size=\"13\" text-anchor=\"middle\" fill=\"#c03030\">b<") != std::string::npos);
  CHECK(svg.find(">a<", svg.find(">a<") + 1) == std::string::npos);  // the repeated 'a' frame is one character
}

TEST_CASE("edit distance and error rates") {
  CHECK(tg::speech::edit_distance({"a", "b", "c"}, {"a", "c"}) == 1);
  CHECK(tg::speech::edit_distance({}, {"x", "y"}) == 2);
  CHECK(tg::speech::edit_distance({"k", "i", "t", "t", "e", "n"}, {"s", "i", "t", "t", "i", "n", "g"}) == 3);
  const tg::speech::ErrorRates r = tg::speech::error_rates({"a dog runs", "the cat"}, {"a dog ran", "the cat"});
  CHECK(r.char_edits.total() == 2);  // hypothesis "runs" for "ran": a substitution and an insertion
  CHECK(r.char_edits.substitutions == 1);
  CHECK(r.char_edits.insertions == 1);
  CHECK(r.chars == 16);
  CHECK(r.word_edits.total() == 1);
  CHECK(r.word_edits.substitutions == 1);
  CHECK(r.words == 5);
  CHECK(r.wer == doctest::Approx(0.2));
  // Hypothesis "a cat" for "the big cat": one substitution (a/the), one deletion (big).
  const tg::speech::Edits words = tg::speech::align({"a", "cat"}, {"the", "big", "cat"});
  CHECK(words.substitutions == 1);
  CHECK(words.deletions == 1);
  CHECK(words.insertions == 0);
  const tg::speech::Edits added = tg::speech::align({"x", "y", "z"}, {"y"});
  CHECK(added.insertions == 2);
  CHECK(added.total() == 2);
}

TEST_CASE("character language model: Witten-Bell probabilities by hand, normalised, errors named") {
  tg::speech::CharLM lm(2);  // bigrams
  lm.add("ab");
  lm.add("ab");
  // After 'a': C(a b) = 2, C(a) = 2, N(a) = 1; the unigram level: 'b' seen 2 times of 6 ("^"-contexts
  // excluded: the empty context saw a, b, $ twice each), N = 3; uniform 1/29 below it.
  const double unigram_b = (2 + 3 / 29.0) / (6 + 3);
  CHECK(std::exp(lm.log_prob("a", 'b')) == doctest::Approx((2 + 1 * unigram_b) / (2 + 1)).epsilon(1e-12));
  const double unigram_z = (0 + 3 / 29.0) / (6 + 3);
  CHECK(std::exp(lm.log_prob("a", 'z')) == doctest::Approx(1 * unigram_z / 3).epsilon(1e-12));
  // A context never seen ("z") backs off to the unigram level.
  CHECK(std::exp(lm.log_prob("xz", 'b')) == doctest::Approx(unigram_b).epsilon(1e-12));
  // Every context's distribution sums to one over the 29 symbols, at several orders.
  tg::speech::CharLM big(5);
  for (const char* sentence : {"a dog runs", "a dog sits", "two dogs run", "it's a cat"}) big.add(sentence);
  for (const char* context : {"", "a d", "a dog", "zzzz", " run", "it'"}) {
    double sum = std::exp(big.log_prob(context, tg::speech::CharLM::kEnd));
    for (const char c : std::string(" 'abcdefghijklmnopqrstuvwxyz")) sum += std::exp(big.log_prob(context, c));
    CAPTURE(context);
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
  }
  CHECK(big.log_prob("a do", 'g') > big.log_prob("a do", 'x'));
  CHECK_THROWS_WITH_AS(big.add("Dog"), doctest::Contains("'D' in \"Dog\" is not a character"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::speech::CharLM(0), doctest::Contains("order must be at least 1, got 0"), tg::Error);
}

TEST_CASE("prefix beam search with the language model: the model settles what the sounds leave open") {
  // Frames that say "ca?": the third frame is torn between 't' (0.45) and 'r' (0.55).
  const std::vector<int64_t> c = tg::speech::encode_text("c"), a = tg::speech::encode_text("a");
  const std::vector<int64_t> t = tg::speech::encode_text("t"), r = tg::speech::encode_text("r");
  std::vector<float> rows = peaked({c[0], a[0], t[0]});
  for (int64_t k = 0; k < tg::speech::kClasses; ++k) rows[2 * tg::speech::kClasses + k] = std::log(1e-6f);
  rows[2 * tg::speech::kClasses + t[0]] = std::log(0.45f);
  rows[2 * tg::speech::kClasses + r[0]] = std::log(0.55f);
  CHECK(tg::speech::decode_ids(tg::speech::prefix_beam_decode(rows, 3, tg::speech::kClasses, 8)) == "car");
  tg::speech::CharLM lm(4);
  for (int i = 0; i < 5; ++i) lm.add("cat");
  lm.add("car");
  const tg::speech::LMFusion fusion{.lm = &lm, .weight = 0.5, .bonus = 0.0};
  CHECK(tg::speech::decode_ids(tg::speech::prefix_beam_decode(rows, 3, tg::speech::kClasses, 8, fusion)) == "cat");
  // Weight 0 is CTC alone.
  CHECK(tg::speech::decode_ids(tg::speech::prefix_beam_decode(rows, 3, tg::speech::kClasses, 8, {.lm = &lm, .weight = 0, .bonus = 0})) ==
        "car");
}

TEST_CASE("prefix beam search on a trie gives the reference's ids: random rows, widths 1-16, with and without an LM") {
  std::vector<tg::speech::CharLM> lms;
  for (const int64_t order : {1, 2, 3, 5}) {
    lms.emplace_back(order);
    for (const char* sentence : {"a dog runs", "a dog sits", "two dogs run", "it's a cat", "the cat's ball", "zoo"})
      lms.back().add(sentence);
  }
  std::mt19937_64 rng(38);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  int64_t unlike_greedy = 0;
  constexpr int64_t kTrials = 300;
  for (int64_t trial = 0; trial < kTrials; ++trial) {
    const int64_t width = 1 + trial % 16;
    const int64_t frames = 1 + static_cast<int64_t>(rng() % 200);
    const double scale = 0.5 + 7.5 * uniform(rng);
    const bool few = trial % 3 == 0;
    const std::vector<float> rows = random_rows(frames, scale, few, rng);
    tg::speech::LMFusion fusion;
    if (trial % 5 != 0) {  // four in five with a language model, of each order in turn
      const tg::speech::CharLM& lm = lms[static_cast<size_t>(trial) % lms.size()];
      fusion = {.lm = &lm, .weight = 1.5 * uniform(rng), .bonus = 3 * uniform(rng) - 1};
    }
    CAPTURE(trial);
    CAPTURE(width);
    CAPTURE(frames);
    CAPTURE(scale);
    CAPTURE(few);
    CAPTURE(fusion.lm ? fusion.lm->order() : 0);
    const std::vector<int64_t> ids = tg::speech::prefix_beam_decode(rows, frames, tg::speech::kClasses, width, fusion);
    CHECK(ids == reference_prefix_beam_decode(rows, frames, tg::speech::kClasses, width, fusion));
    if (ids != tg::speech::greedy_decode(rows, frames, tg::speech::kClasses)) ++unlike_greedy;
  }
  // The rows are not so clear that the search has nothing to do.
  CHECK(unlike_greedy > kTrials / 4);
  CHECK_THROWS_WITH_AS(tg::speech::prefix_beam_decode(random_rows(3, 1.0, false, rng), 3, tg::speech::kClasses, 0),
                       doctest::Contains("the beam width must be at least 1, got 0"), tg::Error);
}

TEST_CASE("prefix beam search costs the same per frame however long the prefixes: 30 minutes of audio at width 8") {
  // Regression: the reference, copying each prefix per
  // frame and class, took 7 s on the first minute of these rows, 28 s on two
  // and 63 s on three: about 6,000 s on thirty, far past this program's 300 s
  // test timeout. The trie takes under half a second.
  const int64_t frames = output_frames(30);
  REQUIRE(frames == 90000);
  std::mt19937_64 rng(11);
  const std::vector<float> rows = random_rows(frames, 3.0, false, rng);
  const std::vector<int64_t> ids = tg::speech::prefix_beam_decode(rows, frames, tg::speech::kClasses, 8);
  CHECK(ids.size() > static_cast<size_t>(frames / 2));  // random rows spell a label most frames: long prefixes
  CHECK(std::all_of(ids.begin(), ids.end(), [](int64_t id) { return id > tg::speech::kBlank && id < tg::speech::kClasses; }));
}

TEST_CASE("SpecAugment: masks are zero bands and spans inside each utterance, drawn from the seed") {
  tg::speech::Batch batch;
  batch.features = tg::ones({2, 20, 50});  // (B, mels, T)
  batch.frames = {50, 30};
  const tg::speech::SpecAugment options{.freq_masks = 1, .freq_width = 6, .time_masks = 1, .time_width = 8, .time_ratio = 0.2};
  tg::speech::Batch again = batch;
  tg::speech::spec_augment(batch, options, 7);
  tg::speech::spec_augment(again, options, 7);
  const std::vector<float> x = batch.features.to_vector<float>();
  CHECK(x == again.features.to_vector<float>());
  int64_t zeros_seen = 0;
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t frames = batch.frames[static_cast<size_t>(b)];
    std::vector<int64_t> zero_channels, zero_frames;
    for (int64_t m = 0; m < 20; ++m) {
      bool all = true;
      for (int64_t t = 0; t < frames; ++t) all = all && x[static_cast<size_t>((b * 20 + m) * 50 + t)] == 0.0f;
      if (all) zero_channels.push_back(m);
    }
    for (int64_t t = 0; t < 50; ++t) {
      bool all = true;
      for (int64_t m = 0; m < 20; ++m) all = all && x[static_cast<size_t>((b * 20 + m) * 50 + t)] == 0.0f;
      if (all) zero_frames.push_back(t);
    }
    CHECK(zero_channels.size() <= 6);
    // Time masks stay inside the utterance and are at most 20% of it (and 8 frames).
    CHECK(static_cast<int64_t>(zero_frames.size()) <= std::min<int64_t>(8, frames / 5));
    for (const int64_t t : zero_frames) CHECK(t < frames);
    // Every zero lies in a masked channel or frame.
    for (int64_t m = 0; m < 20; ++m)
      for (int64_t t = 0; t < 50; ++t)
        if (x[static_cast<size_t>((b * 20 + m) * 50 + t)] == 0.0f) {
          ++zeros_seen;
          const bool in_band = std::find(zero_channels.begin(), zero_channels.end(), m) != zero_channels.end();
          const bool in_span = std::find(zero_frames.begin(), zero_frames.end(), t) != zero_frames.end();
          CHECK((in_band || in_span));
        }
  }
  CHECK(zeros_seen > 0);
  tg::speech::Batch other = again;
  tg::speech::spec_augment(other, options, 8);
  CHECK(other.features.to_vector<float>() != x);
  tg::speech::Batch untouched = again;
  tg::speech::spec_augment(untouched, {.freq_masks = 0, .time_masks = 0}, 7);
  CHECK(untouched.features.to_vector<float>() == again.features.to_vector<float>());
}

TEST_CASE("the recogniser on a tiny synthesized corpus: its CTC loss falls; a checkpoint gives the same output") {
  if (std::system("command -v espeak-ng >/dev/null && command -v sox >/dev/null") != 0) {
    MESSAGE("espeak-ng or sox missing (scripts/install-deps.sh installs them): skipping");
    return;
  }
  const std::string dir = "/tmp/tapegrad_test_speech_" + std::to_string(getpid());
  const std::string text = dir + ".txt";
  {
    std::FILE* f = std::fopen(text.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("a dog runs\na cat sits\ntwo men walk\nthe boy plays ball\na girl swims\nmen ride bikes\n"
               "a red car\nthe sun is up\nbirds fly high\nkids eat cake\nit's raining\na big tree\n", f);
    std::fclose(f);
  }
  REQUIRE(std::system(("bash " TAPEGRAD_SOURCE_DIR "/scripts/synthesize-speech.sh --tiny --jobs 2 --text " + text + " " + dir +
                       " >/dev/null").c_str()) == 0);
  const std::vector<tg::speech::Utterance> data = tg::speech::read_split(dir, "train");
  REQUIRE(data.size() == 8);
  CHECK(data[0].features.size(1) == 80);
  const tg::speech::Batch batch = tg::speech::make_batch(data, tg::speech::plan_batches(data, 8, 0)[0]);
  CHECK(batch.features.size(0) == 8);
  CHECK(batch.features.size(1) == 80);

  tg::Generator gen(5);
  tg::speech::Recognizer model({.channels = 32, .hidden = 32, .layers = 1, .dropout = 0.0}, gen);
  tg::optim::AdamOptions options;
  options.lr = 3e-3;
  tg::optim::Adam adam(model.named_parameters(), options);
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    tg::Tape tape;
    tg::TapeScope scope(tape);
    std::vector<int64_t> frames;
    const tg::Tensor log_probs = model.forward(batch.features, batch.frames, frames);
    CHECK(log_probs.shape() == tg::Shape{tg::speech::Recognizer::frames_after(batch.features.size(2)), 8, tg::speech::kClasses});
    const tg::Tensor loss = tg::ctc_loss(log_probs, batch.targets, frames, batch.target_lengths);
    (step == 0 ? first : last) = loss.item();
    loss.backward();
    adam.step();
    adam.zero_grad();
  }
  CHECK(last < 0.6 * first);

  const std::string path = dir + "/model.safetensors";
  tg::nn::save(model, path);
  tg::Generator other(99);
  tg::speech::Recognizer loaded({.channels = 32, .hidden = 32, .layers = 1, .dropout = 0.0}, other);
  tg::nn::load(loaded, path);
  model.eval();
  loaded.eval();
  tg::NoGrad no_grad;
  std::vector<int64_t> f1, f2;
  const std::vector<double> a = model.forward(batch.features, batch.frames, f1).to_vector<double>();
  const std::vector<double> b = loaded.forward(batch.features, batch.frames, f2).to_vector<double>();
  CHECK(a == b);
  std::system(("rm -rf " + dir + " " + text).c_str());
}

TEST_CASE("transcript formats: words from the characters' times, segments at pauses, SubRip and WebVTT timings") {
  using tg::speech::TimedChar;
  // "a dog" at 0.10..0.30 s, a pause of 1 s, "runs" at 1.50..1.56 s.
  const std::vector<TimedChar> chars = {{'a', 0.10}, {' ', 0.14}, {'d', 0.20}, {'o', 0.24}, {'g', 0.30},
                                        {' ', 0.40}, {'r', 1.50}, {'u', 1.52}, {'n', 1.54}, {'s', 1.56}};
  const std::vector<tg::speech::TimedSpan> words = tg::speech::words_of(chars, 0.02);
  REQUIRE(words.size() == 3);
  CHECK(words[1].text == "dog");
  CHECK(words[1].start == doctest::Approx(0.20));
  CHECK(words[1].end == doctest::Approx(0.32));
  const std::vector<tg::speech::TimedSpan> segments = tg::speech::segments_of(words);
  REQUIRE(segments.size() == 2);  // the 1.18 s pause is over kSegmentPause
  CHECK(segments[0].text == "a dog");
  CHECK(segments[1].text == "runs");
  CHECK(tg::speech::timestamp(3723.4567, ',') == "01:02:03,457");
  CHECK(tg::speech::timestamp(0.0, '.') == "00:00:00.000");
  CHECK(tg::speech::to_srt(segments) == "1\n00:00:00,100 --> 00:00:00,320\na dog\n\n2\n00:00:01,500 --> 00:00:01,580\nruns\n\n");
  CHECK(tg::speech::to_vtt(segments) == "WEBVTT\n\n00:00:00.100 --> 00:00:00.320\na dog\n\n00:00:01.500 --> 00:00:01.580\nruns\n\n");
  const nlohmann::json verbose = tg::speech::to_verbose_json("a dog runs", 2.0, segments, &words);
  CHECK(verbose["segments"].size() == 2);
  CHECK(verbose["words"][2]["word"] == "runs");
  CHECK_FALSE(tg::speech::to_verbose_json("a dog runs", 2.0, segments, nullptr).contains("words"));
  // A segment closes before passing kSegmentSeconds even without a pause.
  std::vector<TimedChar> long_speech;
  for (int i = 0; i < 30; ++i) long_speech.insert(long_speech.end(), {{'w', i * 0.5}, {' ', i * 0.5 + 0.1}});
  for (const tg::speech::TimedSpan& s : tg::speech::segments_of(tg::speech::words_of(long_speech, 0.02)))
    CHECK(s.end - s.start <= tg::speech::kSegmentSeconds);
}
