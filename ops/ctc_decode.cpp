#include "ops/ctc_decode.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "kernels/ctc_loss/ctc_recursion.h"  // ctc::log_add

namespace tg {

namespace {

void check_decode_args(const char* op, int64_t frames, int64_t classes, int64_t blank) {
  if (frames < 0) fail("{}: frames must be >= 0, got {}", op, frames);
  if (classes < 1) fail("{}: there must be at least one class, got {}", op, classes);
  if (blank < 0 || blank >= classes) fail("{}: blank {} is not one of the {} classes", op, blank, classes);
}

// The rows of (T, C) log_probs on the host as float32, and how many are decoded.
struct HostRows {
  std::vector<float> values;
  int64_t frames = 0, classes = 0;
};

HostRows host_rows(const char* op, const Tensor& log_probs, int64_t frames) {
  check_defined(log_probs, op, "log_probs");
  check_floating(log_probs, op);
  if (log_probs.ndim() != 2) fail("{}: log_probs must be (T, C), one sequence, got {}", op, log_probs.shape().str());
  const int64_t steps = log_probs.size(0);
  if (frames > steps) fail("{}: frames {} is more than the {} rows of log_probs {}", op, frames, steps, log_probs.shape().str());
  return {contiguous_values(log_probs).to_vector<float>(), frames < 0 ? steps : frames, log_probs.size(1)};
}

// Every prefix the beam search keeps, shared: node 0 is the empty prefix and
// every other node is its parent's prefix plus one label, so a beam is one
// node id and a longer prefix costs one node, not a copy. A prefix has one
// node (child() finds it before adding), so two beams that spell the same
// prefix are the same node.
class PrefixTrie {
 public:
  static constexpr int64_t kRoot = 0;
  PrefixTrie(int64_t classes, int64_t blank) : classes_(classes), nodes_{{-1, blank}} {}

  int64_t parent(int64_t node) const { return nodes_[static_cast<size_t>(node)].parent; }
  int64_t label(int64_t node) const { return nodes_[static_cast<size_t>(node)].label; }
  // The node of `node`'s prefix plus `label`, added if new.
  int64_t child(int64_t node, int64_t label) {
    const auto [it, fresh] = children_.try_emplace(node * classes_ + label, static_cast<int64_t>(nodes_.size()));
    if (fresh) nodes_.push_back({node, label});
    return it->second;
  }
  // The last `count` labels of `node`'s prefix (all of them if it is shorter), in order.
  std::vector<int64_t> last_labels(int64_t node, int64_t count) const {
    std::vector<int64_t> labels;
    for (; node != kRoot && static_cast<int64_t>(labels.size()) < count; node = parent(node))
      labels.push_back(label(node));
    std::reverse(labels.begin(), labels.end());
    return labels;
  }
  std::vector<int64_t> labels(int64_t node) const { return last_labels(node, std::numeric_limits<int64_t>::max()); }

 private:
  struct Node {
    int64_t parent, label;
  };
  int64_t classes_;
  std::vector<Node> nodes_;                        // [0]: the root, no parent, no label
  std::unordered_map<int64_t, int64_t> children_;  // parent · classes + label -> child
};

}  // namespace

std::vector<CtcEmission> ctc_greedy_emissions(const float* log_probs, int64_t frames, int64_t classes, int64_t blank) {
  check_decode_args("ctc_greedy_emissions", frames, classes, blank);
  std::vector<CtcEmission> emissions;
  int64_t previous = blank;
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = log_probs + t * classes;
    const int64_t best = std::max_element(row, row + classes) - row;
    if (best != blank && best != previous) emissions.push_back({t, best});
    previous = best;
  }
  return emissions;
}

std::vector<int64_t> ctc_greedy_decode(const float* log_probs, int64_t frames, int64_t classes, int64_t blank) {
  check_decode_args("ctc_greedy_decode", frames, classes, blank);
  std::vector<int64_t> labels;
  for (const CtcEmission& e : ctc_greedy_emissions(log_probs, frames, classes, blank)) labels.push_back(e.label);
  return labels;
}

std::vector<int64_t> ctc_prefix_beam_decode(const float* log_probs, int64_t frames, int64_t classes,
                                            const CtcBeamOptions& options) {
  check_decode_args("ctc_prefix_beam_decode", frames, classes, options.blank);
  if (options.width < 1) fail("ctc_prefix_beam_decode: the beam width must be at least 1, got {}", options.width);
  const int64_t width = options.width, kBlank = options.blank;
  const CtcLabelScorer* lm = options.lm;
  constexpr double none = -std::numeric_limits<double>::infinity();
  struct Score {
    double blank = none, label = none;  // CTC: ending in a blank / in its last label
    double lm = 0;                      // weight · ln P_lm(prefix) + bonus · |prefix|
    double ctc() const { return ctc::log_add(blank, label); }
    double total() const { return ctc() + lm; }
  };
  // A prefix of the next frame: a kept beam's own (node), or a kept beam's
  // plus one label (parent, label), which becomes a node only if it is kept.
  struct Candidate {
    int64_t node, parent, label;
    Score score;
  };
  struct Beam {
    int64_t node;
    Score score;
  };
  PrefixTrie trie(classes, kBlank);
  auto context_of = [&](int64_t node) { return trie.last_labels(node, lm->context_size()); };

  std::vector<Beam> beams{{PrefixTrie::kRoot, Score{0.0, none, 0}}};
  std::vector<Candidate> next;
  std::vector<double> totals;  // next's scores
  std::vector<size_t> order;   // into next, best first
  std::vector<int64_t> kept_child(static_cast<size_t>(classes));  // label -> a kept beam one label longer
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = log_probs + t * classes;
    // The kept beams' own prefixes first: candidate i is beam i.
    next.clear();
    for (const Beam& beam : beams) {
      Score same{none, none, beam.score.lm};
      same.blank = beam.score.ctc() + row[kBlank];  // a blank keeps the prefix
      if (beam.node != PrefixTrie::kRoot)           // the last label again, merged
        same.label = beam.score.label + row[trie.label(beam.node)];
      next.push_back({beam.node, -1, kBlank, same});
    }
    for (size_t i = 0; i < beams.size(); ++i) {
      const auto& [node, score] = beams[i];
      // A kept beam one label longer than this one has its candidate already
      // (with the same language model score: it depends on the prefix only):
      // extend into it. Any order of visiting the beams gives the same sums:
      // log_add is symmetric, and a candidate's label score sums at most two
      // terms (its own repeat, its parent's extension).
      std::fill(kept_child.begin(), kept_child.end(), -1);
      for (size_t j = 0; j < beams.size(); ++j)
        if (beams[j].node != PrefixTrie::kRoot && trie.parent(beams[j].node) == node)
          kept_child[static_cast<size_t>(trie.label(beams[j].node))] = static_cast<int64_t>(j);
      const std::vector<int64_t> context = lm ? context_of(node) : std::vector<int64_t>();
      const int64_t last = node == PrefixTrie::kRoot ? kBlank : trie.label(node);
      for (int64_t c = 0; c < classes; ++c) {
        if (c == kBlank || row[c] < options.prune) continue;  // a label this unlikely here cannot lead a beam
        const double from = c == last ? score.blank : score.ctc();  // a repeat extends only across a blank
        const int64_t merged = kept_child[static_cast<size_t>(c)];
        if (merged >= 0) {
          Score& grown = next[static_cast<size_t>(merged)].score;
          grown.label = ctc::log_add(grown.label, from + row[c]);
          continue;
        }
        Score grown{none, from + row[c], 0};
        if (lm) grown.lm = score.lm + options.lm_weight * lm->score(context, c) + options.bonus;
        next.push_back({-1, node, c, grown});
      }
    }
    // The `width` best; equal scores in candidate order.
    totals.clear();
    for (const Candidate& candidate : next) totals.push_back(candidate.score.total());
    order.resize(next.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t keep = std::min(order.size(), static_cast<size_t>(width));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      [&](size_t a, size_t b) { return totals[a] > totals[b] || (totals[a] == totals[b] && a < b); });
    beams.clear();
    for (size_t k = 0; k < keep; ++k) {
      const Candidate& kept = next[order[k]];
      beams.push_back({kept.node >= 0 ? kept.node : trie.child(kept.parent, kept.label), kept.score});
    }
  }
  std::vector<double> finals;  // the end of the sentence joins the language model's score
  for (const Beam& beam : beams) {
    double end = 0;
    if (lm) end = options.lm_weight * lm->end_score(context_of(beam.node));
    finals.push_back(beam.score.total() + end);
  }
  // Equal final scores go to the prefix first in class-id order.
  size_t best = 0;
  for (size_t i = 1; i < beams.size(); ++i) {
    const bool tie = finals[i] == finals[best];
    if (finals[i] > finals[best] || (tie && trie.labels(beams[i].node) < trie.labels(beams[best].node))) best = i;
  }
  return trie.labels(beams[best].node);
}

std::vector<int64_t> ctc_greedy_decode(const Tensor& log_probs, int64_t frames, int64_t blank) {
  const ProfileScope profile("ctc_greedy_decode");
  const HostRows rows = host_rows("ctc_greedy_decode", log_probs, frames);
  return ctc_greedy_decode(rows.values.data(), rows.frames, rows.classes, blank);
}

std::vector<int64_t> ctc_prefix_beam_decode(const Tensor& log_probs, const CtcBeamOptions& options, int64_t frames) {
  const ProfileScope profile("ctc_prefix_beam_decode");
  const HostRows rows = host_rows("ctc_prefix_beam_decode", log_probs, frames);
  return ctc_prefix_beam_decode(rows.values.data(), rows.frames, rows.classes, options);
}

}  // namespace tg
