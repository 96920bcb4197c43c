#include "speech_decode.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include "kernels/ctc/ctc_recursion.h"  // tg::ctc::log_add
#include "speech_data.h"

namespace speech {

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

namespace {
// The language model's context: the last order − 1 characters of a prefix.
std::string context_of(const std::vector<int64_t>& prefix, const CharLM& lm) {
  const size_t keep = std::min(prefix.size(), static_cast<size_t>(lm.order() - 1));
  return decode_ids(std::vector<int64_t>(prefix.end() - static_cast<std::ptrdiff_t>(keep), prefix.end()));
}
}  // namespace

std::vector<int64_t> prefix_beam_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes,
                                        int64_t width, const LMFusion& fusion) {
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
      same.blank = tg::ctc::log_add(same.blank, score.ctc() + row[kBlank]);  // a blank keeps the prefix
      if (!prefix.empty())  // the last label again, merged
        same.label = tg::ctc::log_add(same.label, score.label + row[prefix.back()]);
      const std::string context = fusion.lm ? context_of(prefix, *fusion.lm) : std::string();
      for (int64_t c = 1; c < classes; ++c) {
        if (row[c] < kPrune) continue;  // a label this unlikely here cannot lead a beam
        std::vector<int64_t> longer = prefix;
        longer.push_back(c);
        auto [it, fresh] = next.try_emplace(longer, Score{none, none, 0});
        Score& grown = it->second;
        if (fresh && fusion.lm)
          grown.lm = score.lm + fusion.weight * fusion.lm->log_prob(context, decode_ids({c})[0]) + fusion.bonus;
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
    return beam.second.total() + fusion.weight * fusion.lm->log_prob(context_of(beam.first, *fusion.lm), CharLM::kEnd);
  };
  const auto best = std::max_element(beams.begin(), beams.end(),
                                     [&](const auto& a, const auto& b) { return final_score(a) < final_score(b); });
  return best->first;
}

}  // namespace speech
