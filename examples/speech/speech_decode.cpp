#include "speech_decode.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

#include "core/error.h"
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

// Every prefix the beam search keeps, shared: node 0 is the empty prefix and
// every other node is its parent's prefix plus one label, so a beam is one
// node id and a longer prefix costs one node, not a copy. A prefix has one
// node (child() finds it before adding), so two beams that spell the same
// prefix are the same node.
class PrefixTrie {
 public:
  static constexpr int64_t kRoot = 0;
  explicit PrefixTrie(int64_t classes) : classes_(classes) {}

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
  std::vector<Node> nodes_{{-1, kBlank}};          // the root: no parent, no label
  std::unordered_map<int64_t, int64_t> children_;  // parent · classes + label -> child
};

}  // namespace

// Each frame costs O(width · (classes + width)) whatever the prefixes' length:
// a beam is a trie node, its language model context at most order − 1 parents
// up, and the answer is read back once, at the end. The trie gains a node only
// for a new prefix that is kept, at most `width` a frame, and frees none before
// the end; that is bounded: 30 minutes of audio (90,000 frames after the
// front-end's stride 2) makes at most 720,001 nodes at width 8, about 40 MB
// with their index. Random rows, which spell a new label most frames, made
// 670,000.
std::vector<int64_t> prefix_beam_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes,
                                        int64_t width, const LMFusion& fusion) {
  if (width < 1) tg::fail("prefix_beam_decode: the beam width must be at least 1, got {}", width);
  constexpr double none = -std::numeric_limits<double>::infinity();
  constexpr float kPrune = -9.2f;  // ln 1e-4
  struct Score {
    double blank = none, label = none;  // CTC: ending in a blank / in its last label
    double lm = 0;                      // weight · ln P_lm(prefix) + bonus · |prefix|
    double ctc() const { return tg::ctc::log_add(blank, label); }
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
  PrefixTrie trie(classes);
  std::string symbols;  // the language model's character of each class
  for (int64_t c = 0; fusion.lm && c < classes; ++c) symbols += decode_ids({c})[0];
  auto context_of = [&](int64_t node) { return decode_ids(trie.last_labels(node, fusion.lm->order() - 1)); };

  std::vector<Beam> beams{{PrefixTrie::kRoot, Score{0.0, none, 0}}};
  std::vector<Candidate> next;
  std::vector<double> totals;  // next's scores
  std::vector<size_t> order;   // into next, best first
  std::vector<int64_t> kept_child(static_cast<size_t>(classes));  // label -> a kept beam one label longer
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = log_probs.data() + t * classes;
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
      const std::string context = fusion.lm ? context_of(node) : std::string();
      const int64_t last = node == PrefixTrie::kRoot ? kBlank : trie.label(node);
      for (int64_t c = 1; c < classes; ++c) {
        if (row[c] < kPrune) continue;  // a label this unlikely here cannot lead a beam
        const double from = c == last ? score.blank : score.ctc();  // a repeat extends only across a blank
        const int64_t merged = kept_child[static_cast<size_t>(c)];
        if (merged >= 0) {
          Score& grown = next[static_cast<size_t>(merged)].score;
          grown.label = tg::ctc::log_add(grown.label, from + row[c]);
          continue;
        }
        Score grown{none, from + row[c], 0};
        if (fusion.lm) {
          const char symbol = symbols[static_cast<size_t>(c)];
          grown.lm = score.lm + fusion.weight * fusion.lm->log_prob(context, symbol) + fusion.bonus;
        }
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
    if (fusion.lm) end = fusion.weight * fusion.lm->log_prob(context_of(beam.node), CharLM::kEnd);
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

}  // namespace speech
