#pragma once
// Corpus BLEU-4, two ways.
//
// multi_bleu(): exactly what Moses' scripts/generic/multi-bleu.perl prints,
// on text that is already tokenized (split on ASCII white space): n-gram
// counts clipped by the largest count in any reference, brevity penalty
// exp(1 - r/c) with r summing, per sentence, the reference length closest to
// the hypothesis length (ties: the shorter), and no smoothing: any zero
// precision makes BLEU 0. `lowercase` is its -lc (ASCII letters only, as the
// Perl script lowercases bytes).
//
// sacre_bleu(): a sacreBLEU-style figure computed by tapegrad (not sacreBLEU
// itself): detokenized hypotheses and raw references are tokenized with the
// 13a tokenizer (mteval-v13a's rules) or not at all, and sacreBLEU's default
// 'exp' smoothing applies: the k-th order with no match counts as 1/2^k
// matches. `lowercase` lowercases all of Unicode, like Python's str.lower().
//
// Both take references as a list of reference sets, each with one line per
// hypothesis. Precisions and the score are percentages.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tg::text {

struct BleuScore {
  double score = 0;                    // 0..100
  std::array<double, 4> precisions{};  // 0..100, orders 1..4
  std::array<int64_t, 4> correct{};    // clipped matches per order
  std::array<int64_t, 4> total{};      // hypothesis n-grams per order
  double bp = 0;                       // brevity penalty
  double ratio = 0;                    // hyp_len / ref_len
  int64_t hyp_len = 0, ref_len = 0;
  std::string signature;  // sacre_bleu only

  // multi-bleu.perl's line:
  // BLEU = 26.21, 60.2/33.0/19.9/12.4 (BP=1.000, ratio=1.012, hyp_len=12345, ref_len=12200)
  std::string str() const;
};

BleuScore multi_bleu(const std::vector<std::string>& hypotheses,
                     const std::vector<std::vector<std::string>>& references, bool lowercase = false);
BleuScore multi_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                     bool lowercase = false);

struct SacreBleuOptions {
  std::string tokenize = "13a";  // "13a" or "none"
  bool lowercase = false;
};
BleuScore sacre_bleu(const std::vector<std::string>& hypotheses,
                     const std::vector<std::vector<std::string>>& references, const SacreBleuOptions& options = {});
BleuScore sacre_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                     const SacreBleuOptions& options = {});

// sacreBLEU's 13a tokenizer: unescapes &quot; &amp; &lt; &gt;, drops
// "<skipped>", splits ASCII punctuation and symbols from words, periods and
// commas unless beside a digit, a dash after a digit; returns tokens joined by
// single spaces.
std::string tokenize_13a(std::string_view line);

}  // namespace tg::text
