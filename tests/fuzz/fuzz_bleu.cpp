// libFuzzer target: the BLEU scorers (data/text/bleu.h) on arbitrary lines. The
// first byte picks the options (bits 0-1: 1 to 3 reference sets; bit 2:
// lowercase; bit 3: sacre_bleu's tokenizer "none" instead of "13a"); the
// rest, cut at "\n", gives the hypotheses then each reference set, equally
// many lines each. Nothing may crash or throw; scores, precisions and the
// brevity penalty stay in range; a corpus scored against itself gets 100
// whenever it has 4-grams.
#include <cmath>

#include "data/text/bleu.h"
#include "fuzz_support.h"

namespace {

void check_range(const tg::text::BleuScore& s) {
  const auto in = [](double x, double hi) { return x >= 0 && x <= hi + 1e-9; };  // false for NaN
  if (!in(s.score, 100) || !in(s.bp, 1)) fuzz::broken("score or brevity penalty out of range");
  for (int n = 0; n < 4; ++n) {
    if (!in(s.precisions[n], 100)) fuzz::broken("precision out of range");
    if (s.correct[n] < 0 || s.correct[n] > s.total[n]) fuzz::broken("more matches than n-grams");
  }
}

bool has_4grams(const tg::text::BleuScore& s) { return s.total[3] > 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t sets = 1 + data[0] % 4 % 3;
  const bool lowercase = (data[0] & 4) != 0;
  const std::string tokenize = (data[0] & 8) != 0 ? "none" : "13a";
  const std::vector<std::string> lines = fuzz::split(fuzz::bytes(data + 1, size - 1), '\n');
  const size_t n = lines.size() / (1 + sets);
  const std::vector<std::string> hyps(lines.begin(), lines.begin() + n);
  std::vector<std::vector<std::string>> refs;
  for (size_t r = 0; r < sets; ++r)
    refs.emplace_back(lines.begin() + (1 + r) * n, lines.begin() + (2 + r) * n);

  for (const std::string& line : lines) (void)tg::text::tokenize_13a(line);
  const tg::text::SacreBleuOptions options{.tokenize = tokenize, .lowercase = lowercase};
  check_range(tg::text::multi_bleu(hyps, refs, lowercase));
  check_range(tg::text::sacre_bleu(hyps, refs, options));

  const tg::text::BleuScore self = tg::text::multi_bleu(hyps, hyps, lowercase);
  check_range(self);
  if (has_4grams(self) && std::abs(self.score - 100) > 1e-9) fuzz::broken("multi_bleu of a corpus against itself is not 100");
  const tg::text::BleuScore sacre_self = tg::text::sacre_bleu(hyps, hyps, options);
  check_range(sacre_self);
  if (has_4grams(sacre_self) && std::abs(sacre_self.score - 100) > 1e-9)
    fuzz::broken("sacre_bleu of a corpus against itself is not 100");
  return 0;
}
