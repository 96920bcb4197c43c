#include "data/text/bleu.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/services/ascii.h"
#include "core/services/error.h"
#include "data/text/tokenizer.h"
#include "data/text/utf8.h"
#include "data/text/strings.h"

namespace tg::text {

namespace {

using NgramCounts = std::map<std::vector<std::string_view>, int64_t>;

// Counts of every n-gram of `words`, n = 1..4.
NgramCounts count_ngrams(const std::vector<std::string>& words) {
  NgramCounts counts;
  for (size_t n = 1; n <= 4; ++n)
    for (size_t start = 0; start + n <= words.size(); ++start)
      ++counts[std::vector<std::string_view>(words.begin() + start, words.begin() + start + n)];
  return counts;
}

// Sufficient statistics of a corpus: matches and totals per order, lengths.
struct Stats {
  std::array<int64_t, 4> correct{}, total{};
  int64_t hyp_len = 0, ref_len = 0;
};

void check_sizes(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                 const char* op) {
  if (references.empty()) fail("{}: no reference sets given; expected at least one", op);
  for (size_t r = 0; r < references.size(); ++r)
    if (references[r].size() != hypotheses.size())
      fail("{}: reference set {} has {} lines but there are {} hypotheses; expected one per hypothesis", op, r,
           references[r].size(), hypotheses.size());
}

// Statistics of already split sentences.
Stats collect(const std::vector<std::vector<std::string>>& hyps,
              const std::vector<std::vector<std::vector<std::string>>>& refs) {
  Stats stats;
  for (size_t s = 0; s < hyps.size(); ++s) {
    const int64_t hyp_len = static_cast<int64_t>(hyps[s].size());
    // clip counts: the largest count of each n-gram in any one reference
    NgramCounts max_ref;
    int64_t closest_diff = -1, closest_len = 0;
    for (const auto& ref_set : refs) {
      const auto& ref = ref_set[s];
      const int64_t ref_len = static_cast<int64_t>(ref.size());
      const int64_t diff = std::abs(hyp_len - ref_len);
      if (closest_diff < 0 || diff < closest_diff || (diff == closest_diff && ref_len < closest_len)) {
        closest_diff = diff;
        closest_len = ref_len;
      }
      for (const auto& [ngram, count] : count_ngrams(ref)) max_ref[ngram] = std::max(max_ref[ngram], count);
    }
    stats.hyp_len += hyp_len;
    stats.ref_len += closest_len;
    for (const auto& [ngram, count] : count_ngrams(hyps[s])) {
      const size_t order = ngram.size() - 1;
      stats.total[order] += count;
      const auto it = max_ref.find(ngram);
      if (it != max_ref.end()) stats.correct[order] += std::min(count, it->second);
    }
  }
  return stats;
}

// log that treats 0 as a huge negative number, as both scripts do.
double safe_log(double x) { return x == 0 ? -9999999999.0 : std::log(x); }

BleuScore finish(const Stats& s, bool smooth_exp) {
  BleuScore out;
  out.correct = s.correct;
  out.total = s.total;
  out.hyp_len = s.hyp_len;
  out.ref_len = s.ref_len;
  out.ratio = s.ref_len > 0 ? static_cast<double>(s.hyp_len) / static_cast<double>(s.ref_len) : 0.0;
  if (s.hyp_len < s.ref_len)
    out.bp = s.hyp_len > 0 ? std::exp(1.0 - static_cast<double>(s.ref_len) / static_cast<double>(s.hyp_len)) : 0.0;
  else
    out.bp = 1.0;
  if (!smooth_exp) {  // multi-bleu.perl
    double log_sum = 0;
    for (int n = 0; n < 4; ++n) {
      const double p = s.total[n] > 0 ? static_cast<double>(s.correct[n]) / static_cast<double>(s.total[n]) : 0.0;
      out.precisions[n] = 100.0 * p;
      log_sum += safe_log(p);
    }
    out.score = s.ref_len == 0 ? 0.0 : 100.0 * out.bp * std::exp(log_sum / 4);
    if (s.ref_len == 0) out.bp = 0;  // multi-bleu prints BP=0 for an empty reference
    return out;
  }
  // sacreBLEU: no matches at all -> 0; orders without n-grams stop the loop.
  if (std::all_of(s.correct.begin(), s.correct.end(), [](int64_t c) { return c == 0; })) return out;
  double smooth = 1;
  for (int n = 0; n < 4; ++n) {
    if (s.total[n] == 0) break;
    if (s.correct[n] == 0) {
      smooth *= 2;
      out.precisions[n] = 100.0 / (smooth * static_cast<double>(s.total[n]));
    } else {
      out.precisions[n] = 100.0 * static_cast<double>(s.correct[n]) / static_cast<double>(s.total[n]);
    }
  }
  double log_sum = 0;
  for (int n = 0; n < 4; ++n) log_sum += safe_log(out.precisions[n]);
  out.score = out.bp * std::exp(log_sum / 4);
  return out;
}

// Python's str.split(): Unicode white space.
std::vector<std::string> split_unicode(std::string_view line) {
  std::vector<std::string> words;
  std::u32string current;
  for (const char32_t c : decode_utf8(line)) {
    if (is_python_space(c)) {
      if (!current.empty()) words.push_back(encode_utf8(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) words.push_back(encode_utf8(current));
  return words;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The 13a symbol class [{-~[-` -&(-+:-@/]: ASCII punctuation except ' - . ,
bool is_13a_symbol(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') || (c >= '(' && c <= '+') ||
         (c >= ':' && c <= '@') || c == '/';
}

}  // namespace

std::string BleuScore::str() const {
  return fmt::format("BLEU = {:.2f}, {:.1f}/{:.1f}/{:.1f}/{:.1f} (BP={:.3f}, ratio={:.3f}, hyp_len={}, ref_len={})", score,
                     precisions[0], precisions[1], precisions[2], precisions[3], bp, ratio, hyp_len, ref_len);
}

BleuScore multi_bleu(const std::vector<std::string>& hypotheses,
                     const std::vector<std::vector<std::string>>& references, bool lowercase) {
  check_sizes(hypotheses, references, "multi_bleu");
  const auto prepare = [&](const std::string& line) { return split_tokens(lowercase ? ascii_lowercase(line) : line); };
  std::vector<std::vector<std::string>> hyps;
  for (const std::string& h : hypotheses) hyps.push_back(prepare(h));
  std::vector<std::vector<std::vector<std::string>>> refs(references.size());
  for (size_t r = 0; r < references.size(); ++r)
    for (const std::string& line : references[r]) refs[r].push_back(prepare(line));
  return finish(collect(hyps, refs), false);
}

BleuScore multi_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                     bool lowercase) {
  return multi_bleu(hypotheses, std::vector<std::vector<std::string>>{references}, lowercase);
}

std::string tokenize_13a(std::string_view text) {
  std::string line(text);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  replace_all(line, "&quot;", "\"");
  replace_all(line, "&amp;", "&");
  replace_all(line, "&lt;", "<");
  replace_all(line, "&gt;", ">");
  line = " " + line + " ";

  std::string a;  // symbols become tokens
  for (const char c : line) {
    if (is_13a_symbol(c)) {
      a += ' ';
      a += c;
      a += ' ';
    } else {
      a += c;
    }
  }
  // Two-character patterns, each a left-to-right scan whose matches do not
  // overlap (Python's re.sub); multi-byte characters only ever fill a
  // [^0-9] slot, where their first or last byte stands for them.
  const auto scan = [](const std::string& in, auto matches, auto emit) {
    std::string out;
    size_t i = 0;
    while (i < in.size()) {
      if (i + 1 < in.size() && matches(in[i], in[i + 1])) {
        emit(out, in[i], in[i + 1]);
        i += 2;
      } else {
        out += in[i++];
      }
    }
    return out;
  };
  const auto period_or_comma = [](char c) { return c == '.' || c == ','; };
  // ([^0-9])([\.,]) -> "\1 \2 "
  std::string b = scan(a, [&](char x, char y) { return !is_digit(x) && period_or_comma(y); },
                       [](std::string& o, char x, char y) { o += x; o += ' '; o += y; o += ' '; });
  // ([\.,])([^0-9]) -> " \1 \2"
  std::string c = scan(b, [&](char x, char y) { return period_or_comma(x) && !is_digit(y); },
                       [](std::string& o, char x, char y) { o += ' '; o += x; o += ' '; o += y; });
  // ([0-9])(-) -> "\1 \2 "
  std::string d = scan(c, [](char x, char y) { return is_digit(x) && y == '-'; },
                       [](std::string& o, char x, char y) { o += x; o += ' '; o += y; o += ' '; });
  std::string out;
  for (const std::string& w : split_unicode(d)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

BleuScore sacre_bleu(const std::vector<std::string>& hypotheses,
                     const std::vector<std::vector<std::string>>& references, const SacreBleuOptions& options) {
  check_sizes(hypotheses, references, "sacre_bleu");
  if (options.tokenize != "13a" && options.tokenize != "none")
    fail("sacre_bleu: tokenize '{}' not supported; expected '13a' or 'none'", options.tokenize);
  const auto prepare = [&](const std::string& line) {
    const std::string cased = options.lowercase ? lowercase(line) : line;
    return split_unicode(options.tokenize == "13a" ? tokenize_13a(cased) : cased);
  };
  std::vector<std::vector<std::string>> hyps;
  for (const std::string& h : hypotheses) hyps.push_back(prepare(h));
  std::vector<std::vector<std::vector<std::string>>> refs(references.size());
  for (size_t r = 0; r < references.size(); ++r)
    for (const std::string& line : references[r]) refs[r].push_back(prepare(line));
  BleuScore score = finish(collect(hyps, refs), true);
  score.signature = fmt::format("nrefs:{}|case:{}|eff:no|tok:{}|smooth:exp|version:2.x|computed-by:tapegrad", references.size(),
                                options.lowercase ? "lc" : "mixed", options.tokenize);
  return score;
}

BleuScore sacre_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                     const SacreBleuOptions& options) {
  return sacre_bleu(hypotheses, std::vector<std::vector<std::string>>{references}, options);
}

}  // namespace tg::text
