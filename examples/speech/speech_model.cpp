#include "speech_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/creation.h"
#include "core/ctc_recursion.h"  // tg::ctc::log_add
#include "ops/relu.h"
#include "ops/softmax.h"
#include "ops/transpose.h"
#include "speech_data.h"

namespace speech {

Recognizer::Recognizer(const ModelConfig& c, tg::Generator& gen)
    : conv1(c.mels, c.channels, 5, {.stride = 2, .padding = 2}, gen),
      conv2(c.channels, c.channels, 5, {.padding = 2}, gen),
      norm(tg::Shape{c.channels}),
      rnn(c.channels, c.hidden, {.num_layers = static_cast<int>(c.layers), .bidirectional = true, .dropout = c.dropout}, gen),
      dropout(c.dropout, gen.next_u64()),
      out(2 * c.hidden, kClasses, {}, gen),
      config_(c) {
  register_module("conv1", conv1);
  register_module("conv2", conv2);
  register_module("norm", norm);
  register_module("rnn", rnn);
  register_module("dropout", dropout);
  register_module("out", out);
}

tg::Tensor Recognizer::forward(const tg::Tensor& features, const std::vector<int64_t>& frames,
                               std::vector<int64_t>& out_frames) const {
  out_frames.clear();
  for (const int64_t f : frames) out_frames.push_back(frames_after(f));
  const tg::Tensor x = tg::relu(conv2(tg::relu(conv1(features))));         // (B, C, T')
  const tg::Tensor steps = norm(tg::permute(x, {2, 0, 1}));                  // (T', B, C)
  const tg::nn::GRUOutput run = rnn(steps, {}, tg::index_tensor(out_frames, tg::Shape{static_cast<int64_t>(out_frames.size())}));
  return tg::log_softmax(out(dropout(run.output)), -1);                      // (T', B, 29)
}

std::vector<int64_t> greedy_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes) {
  std::vector<int64_t> labels;
  int64_t previous = kBlank;
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = log_probs.data() + t * classes;
    const int64_t best = std::max_element(row, row + classes) - row;
    if (best != kBlank && best != previous) labels.push_back(best);
    previous = best;
  }
  return labels;
}


std::vector<int64_t> prefix_beam_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes,
                                        int64_t width) {
  constexpr double none = -std::numeric_limits<double>::infinity();
  constexpr float kPrune = -9.2f;  // ln 1e-4
  struct Score {
    double blank = none, label = none;  // ending in a blank / in its last label
    double total() const { return tg::ctc::log_add(blank, label); }
  };
  std::map<std::vector<int64_t>, Score> beams{{{}, Score{0.0, none}}};
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = log_probs.data() + t * classes;
    std::map<std::vector<int64_t>, Score> next;
    for (const auto& [prefix, score] : beams) {
      Score& same = next[prefix];
      same.blank = tg::ctc::log_add(same.blank, score.total() + row[kBlank]);  // a blank keeps the prefix
      if (!prefix.empty())  // the last label again, merged
        same.label = tg::ctc::log_add(same.label, score.label + row[prefix.back()]);
      for (int64_t c = 1; c < classes; ++c) {
        if (row[c] < kPrune) continue;  // a label this unlikely here cannot lead a beam
        std::vector<int64_t> longer = prefix;
        longer.push_back(c);
        // A repeat of the last label extends only across a blank.
        const double from = !prefix.empty() && prefix.back() == c ? score.blank : score.total();
        Score& grown = next[longer];
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
  const auto best = std::max_element(beams.begin(), beams.end(),
                                     [](const auto& a, const auto& b) { return a.second.total() < b.second.total(); });
  return best->first;
}

}  // namespace speech
