// The speech recogniser's parts (examples/speech, issue #26): characters,
// CTC decoding (greedy and prefix beam search) on hand-made log-probabilities,
// edit distances and error rates, and on a tiny synthesized corpus
// (scripts/synthesize-speech.sh --tiny): features, batches, a few training
// steps whose CTC loss falls, a checkpoint that gives the same log-probabilities.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "speech_data.h"
#include "speech_model.h"
#include "speech_svg.h"
#include "tapegrad.h"

namespace {

// Log-probabilities (frames, 29) putting probability 0.9 on one class per frame.
std::vector<float> peaked(const std::vector<int64_t>& classes_per_frame) {
  std::vector<float> rows;
  for (const int64_t c : classes_per_frame)
    for (int64_t k = 0; k < speech::kClasses; ++k)
      rows.push_back(static_cast<float>(std::log(k == c ? 0.9 : 0.1 / (speech::kClasses - 1))));
  return rows;
}

}  // namespace

TEST_CASE("characters: encode and decode; a character outside the set is named") {
  const std::vector<int64_t> ids = speech::encode_text("it's a dog");
  CHECK(ids.size() == 10);
  CHECK(speech::decode_ids(ids) == "it's a dog");
  CHECK_THROWS_WITH_AS(speech::encode_text("dog!"), doctest::Contains("'!' in \"dog!\" is not a character"), tg::Error);
}

TEST_CASE("CTC decoding: repeats merge, blanks separate, prefix beam search agrees on a clear case") {
  const std::vector<int64_t> a = speech::encode_text("a"), b = speech::encode_text("b");
  // frames: a a ∅ a b b ∅  ->  "aab"
  const std::vector<int64_t> frames{a[0], a[0], speech::kBlank, a[0], b[0], b[0], speech::kBlank};
  const std::vector<float> rows = peaked(frames);
  CHECK(speech::decode_ids(speech::greedy_decode(rows, 7, speech::kClasses)) == "aab");
  CHECK(speech::decode_ids(speech::prefix_beam_decode(rows, 7, speech::kClasses, 8)) == "aab");
  // Where greedy and the sum over alignments differ: frame 0 splits between "a" (0.4) and blank (0.35)…
  // prefix beam search finds the prefix most alignments spell.
  std::vector<float> mixed(2 * speech::kClasses, std::log(1e-6f));
  mixed[speech::kBlank] = std::log(0.35f), mixed[a[0]] = std::log(0.4f), mixed[b[0]] = std::log(0.25f);
  mixed[speech::kClasses + speech::kBlank] = std::log(0.6f), mixed[speech::kClasses + b[0]] = std::log(0.4f);
  CHECK(speech::decode_ids(speech::greedy_decode(mixed, 2, speech::kClasses)) == "a");
  // "b": 0.25·0.6 + 0.25·0.4 + 0.35·0.4 = 0.39 beats "a": 0.4·0.6 = 0.24 and "ab": 0.4·0.4 = 0.16.
  CHECK(speech::decode_ids(speech::prefix_beam_decode(mixed, 2, speech::kClasses, 8)) == "b");
}

TEST_CASE("the alignment picture places each character where the greedy path emits it") {
  const std::vector<int64_t> a = speech::encode_text("a"), b = speech::encode_text("b");
  const std::vector<float> rows = peaked({a[0], a[0], speech::kBlank, b[0]});
  const std::string svg = speech::alignment_svg(tg::zeros({8, 4}), rows, 4, 2, "\"ab\"");
  CHECK(svg.find("<svg") == 0);
  CHECK(svg.find("&quot;ab&quot;") != std::string::npos);  // the title, escaped
  // 'a' at output frame 0 (input frames 0-1), 'b' at output frame 3 (input frames 6-7): x = 50 + (2t + 0.5)·3.
  CHECK(svg.find("x=\"51.5\" y=\"48\" font-size=\"13\" text-anchor=\"middle\" fill=\"#c03030\">a<") != std::string::npos);
  CHECK(svg.find("x=\"69.5\" y=\"48\" font-size=\"13\" text-anchor=\"middle\" fill=\"#c03030\">b<") != std::string::npos);
  CHECK(svg.find(">a<", svg.find(">a<") + 1) == std::string::npos);  // the repeated 'a' frame is one character
}

TEST_CASE("edit distance and error rates") {
  CHECK(speech::edit_distance({"a", "b", "c"}, {"a", "c"}) == 1);
  CHECK(speech::edit_distance({}, {"x", "y"}) == 2);
  CHECK(speech::edit_distance({"k", "i", "t", "t", "e", "n"}, {"s", "i", "t", "t", "i", "n", "g"}) == 3);
  const speech::ErrorRates r = speech::error_rates({"a dog runs", "the cat"}, {"a dog ran", "the cat"});
  CHECK(r.char_edits == 2);  // "runs" -> "ran": a substitution and a deletion
  CHECK(r.chars == 16);
  CHECK(r.word_edits == 1);
  CHECK(r.words == 5);
  CHECK(r.wer == doctest::Approx(0.2));
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
  const std::vector<speech::Utterance> data = speech::read_split(dir, "train");
  REQUIRE(data.size() == 8);
  CHECK(data[0].features.size(1) == 80);
  const speech::Batch batch = speech::make_batch(data, speech::plan_batches(data, 8, 0)[0]);
  CHECK(batch.features.size(0) == 8);
  CHECK(batch.features.size(1) == 80);

  tg::Generator gen(5);
  speech::Recognizer model({.channels = 32, .hidden = 32, .layers = 1, .dropout = 0.0}, gen);
  tg::optim::AdamOptions options;
  options.lr = 3e-3;
  tg::optim::Adam adam(model.named_parameters(), options);
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    tg::Tape tape;
    tg::TapeScope scope(tape);
    std::vector<int64_t> frames;
    const tg::Tensor log_probs = model.forward(batch.features, batch.frames, frames);
    CHECK(log_probs.shape() == tg::Shape{speech::Recognizer::frames_after(batch.features.size(2)), 8, speech::kClasses});
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
  speech::Recognizer loaded({.channels = 32, .hidden = 32, .layers = 1, .dropout = 0.0}, other);
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
