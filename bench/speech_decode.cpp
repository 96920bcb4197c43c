// Decoding speed of the speech recogniser's prefix beam search
// (apps/speech/speech_decode.cpp) on 1, 3 and 30
// minutes of audio's worth of random log-probabilities: 50 frames a second,
// the rate after the front-end's stride. The rows are log-softmax of logits
// N(0, scale²), seeded, so most frames spell a new label and the prefixes grow
// with the audio: a search whose frame cost grows with the prefix shows it.
// Reported: the median of --reps decodes, and ms per minute of audio, which
// stays flat when decoding is linear in the frames.
//
//   speech_decode width=8 lm_order=0 minutes=30 frames=90000 labels=... ms=... ms_per_minute=...
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "apps/speech/char_lm.h"
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"
#include "apps/speech/speech_model.h"

namespace {

std::vector<float> random_rows(int64_t frames, double scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<float> rows;
  std::vector<double> logits(tg::speech::kClasses);
  for (int64_t t = 0; t < frames; ++t) {
    for (double& z : logits) z = normal(rng);
    const double top = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (const double z : logits) sum += std::exp(z - top);
    for (const double z : logits) rows.push_back(static_cast<float>(z - top - std::log(sum)));
  }
  return rows;
}

// Output frames of `minutes` of audio: 100 feature frames a second (hop 160 at 16 kHz), halved by the stride.
int64_t output_frames(int64_t minutes) {
  return tg::speech::Recognizer::frames_after(minutes * 60 * 16000 / tg::speech::mel_options().hop_length);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t width = 8, lm_order = 0, reps = 3;
  double scale = 3.0;
  std::vector<int64_t> minutes{1, 3, 30};
  CLI::App app{"prefix beam search decoding time per minute of audio"};
  app.add_option("--width", width)->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--minutes", minutes, "lengths of audio to decode")->capture_default_str();
  app.add_option("--lm-order", lm_order, "a character language model of this order fused in (0: none)")->capture_default_str();
  app.add_option("--scale", scale, "standard deviation of the random logits")->capture_default_str();
  app.add_option("--reps", reps, "decodes per length; the median is reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  tg::speech::CharLM lm(std::max<int64_t>(lm_order, 1));
  for (const char* sentence : {"a dog runs", "a cat sits", "two men walk", "the boy plays ball", "it's raining"})
    lm.add(sentence);
  const tg::speech::LMFusion fusion{.lm = lm_order > 0 ? &lm : nullptr};

  for (const int64_t m : minutes) {
    const int64_t frames = output_frames(m);
    const std::vector<float> rows = random_rows(frames, scale, 38);
    std::vector<double> ms;
    size_t labels = 0;
    for (int64_t r = 0; r < reps; ++r) {
      const auto start = std::chrono::steady_clock::now();
      const std::vector<int64_t> ids = tg::speech::prefix_beam_decode(rows, frames, tg::speech::kClasses, width, fusion);
      labels = ids.size();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    fmt::print("speech_decode width={} lm_order={} minutes={} frames={} labels={} ms={:.1f} ms_per_minute={:.1f}\n", width,
               lm_order, m, frames, labels, median, median / static_cast<double>(m));
  }
  return 0;
}
