#include "apps/translate/shortlist.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>
#include <unordered_map>

#include "core/services/error.h"
#include "data/text/corpus.h"
#include "data/text/multi30k_dir.h"
#include "distributed/agreement.h"
#include "io/text_file.h"
#include "apps/translate/evaluate.h"

namespace tg::translate {

namespace {

constexpr const char* kFormat = "tapegrad.shortlist.v1";
constexpr int64_t kSpecials = text::Vocab::unk_id + 1;  // <pad> <bos> <eos> <unk>: ids 0..3

uint64_t fingerprint(const text::Vocab& vocab) { return distributed::fnv1a(vocab.to_string()); }

void check_options(const ShortlistOptions& options) {
  if (options.frequent < 0) fail("shortlist: frequent must be >= 0, got {}", options.frequent);
  if (options.best < 1) fail("shortlist: best must be at least 1, got {}", options.best);
  if (options.iterations < 1) fail("shortlist: iterations must be at least 1, got {}", options.iterations);
}

void check_ids(const std::vector<int64_t>& ids, int64_t size, const char* side, size_t pair) {
  for (int64_t id : ids)
    if (id < 0 || id >= size) fail("shortlist: pair {} has {} id {}, outside the vocabulary's {} ids", pair, side, id, size);
}

// The target ids of the training pairs by count, most common first (ties: lower id first).
std::vector<int64_t> most_frequent(const std::vector<text::Example>& pairs, int64_t target_size, int64_t count) {
  std::vector<int64_t> seen(static_cast<size_t>(target_size), 0);
  for (const text::Example& pair : pairs)
    for (int64_t e : pair.tgt) ++seen[static_cast<size_t>(e)];
  std::vector<int64_t> ids(static_cast<size_t>(target_size));
  for (int64_t e = 0; e < target_size; ++e) ids[static_cast<size_t>(e)] = e;
  std::stable_sort(ids.begin(), ids.end(), [&](int64_t a, int64_t b) { return seen[a] > seen[b]; });
  ids.resize(static_cast<size_t>(std::min(count, target_size)));
  return ids;
}

// IBM Model 1's lexical table t(e | f) by EM (Brown et al. 1993, eq. 2.1-2.4 of Koehn's SMT book):
// E-step: each target token e_j of a pair spreads one count over the source
// tokens f_i (and NULL) in proportion to t(e_j | f_i); M-step: t(e | f) = c(e, f) / Σ_e' c(e', f).
struct LexicalTable {
  std::vector<int64_t> source, target;  // per co-occurring (f, e): f (V_src for NULL) and e
  std::vector<double> probability;      // t(e | f)
};

LexicalTable model1(const std::vector<text::Example>& pairs, int64_t source_size, int64_t target_size,
                    int64_t iterations) {
  LexicalTable table;
  const int64_t null = source_size;
  std::unordered_map<int64_t, uint32_t> index;                      // f · V_tgt + e -> entry
  std::vector<std::vector<uint32_t>> links(pairs.size());           // per pair: (|tgt|, |src| + 1) entries
  for (size_t p = 0; p < pairs.size(); ++p) {
    std::vector<int64_t> sources = pairs[p].src;
    sources.push_back(null);
    for (int64_t e : pairs[p].tgt)
      for (int64_t f : sources) {
        const auto [it, added] = index.try_emplace(f * target_size + e, static_cast<uint32_t>(table.source.size()));
        if (added) {
          table.source.push_back(f);
          table.target.push_back(e);
        }
        links[p].push_back(it->second);
      }
  }
  const size_t entries = table.source.size();
  table.probability.assign(entries, 1.0 / static_cast<double>(target_size));  // uniform start
  std::vector<double> count(entries), total(static_cast<size_t>(source_size + 1));
  for (int64_t iteration = 0; iteration < iterations; ++iteration) {
    std::fill(count.begin(), count.end(), 0.0);
    for (size_t p = 0; p < pairs.size(); ++p) {
      const size_t width = pairs[p].src.size() + 1;
      const std::vector<uint32_t>& link = links[p];
      for (size_t row = 0; row < link.size(); row += width) {
        double z = 0;
        for (size_t i = 0; i < width; ++i) z += table.probability[link[row + i]];
        for (size_t i = 0; i < width; ++i) count[link[row + i]] += table.probability[link[row + i]] / z;
      }
    }
    std::fill(total.begin(), total.end(), 0.0);
    for (size_t k = 0; k < entries; ++k) total[static_cast<size_t>(table.source[k])] += count[k];
    for (size_t k = 0; k < entries; ++k) table.probability[k] = count[k] / total[static_cast<size_t>(table.source[k])];
  }
  return table;
}

// "12 7 3" -> ids, each checked to lie in [0, size); errors name path:line.
std::vector<int64_t> parse_ids(std::string_view text, int64_t size, const std::string& where) {
  std::vector<int64_t> ids;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    int64_t id = 0;
    const auto [next, error] = std::from_chars(p, end, id);
    if (error != std::errc() || (next < end && *next != ' '))
      fail("{}: expected target ids (numbers separated by spaces), got '{}'", where, text);
    if (id < 0 || id >= size) fail("{}: target id {} is outside the target vocabulary's {} ids", where, id, size);
    ids.push_back(id);
    p = next;
  }
  return ids;
}

}  // namespace

Shortlist::Shortlist(const text::Vocab& src_vocab, const text::Vocab& tgt_vocab)
    : src_fingerprint_(fingerprint(src_vocab)),
      tgt_fingerprint_(fingerprint(tgt_vocab)),
      target_size_(tgt_vocab.size()),
      best_(static_cast<size_t>(src_vocab.size())) {}

Shortlist Shortlist::build(const std::vector<text::Example>& pairs, const text::Vocab& src_vocab,
                           const text::Vocab& tgt_vocab, const ShortlistOptions& options) {
  check_options(options);
  if (pairs.empty()) fail("shortlist: no training pairs to learn from");
  Shortlist list(src_vocab, tgt_vocab);
  list.options_ = options;
  const int64_t Vs = src_vocab.size(), Vt = tgt_vocab.size();
  for (size_t p = 0; p < pairs.size(); ++p) {
    check_ids(pairs[p].src, Vs, "source", p + 1);
    check_ids(pairs[p].tgt, Vt, "target", p + 1);
  }
  const LexicalTable table = model1(pairs, Vs, Vt, options.iterations);
  std::vector<std::vector<std::pair<double, int64_t>>> candidates(static_cast<size_t>(Vs));
  for (size_t k = 0; k < table.source.size(); ++k)
    if (table.source[k] < Vs) candidates[table.source[k]].emplace_back(table.probability[k], table.target[k]);
  for (int64_t f = 0; f < Vs; ++f) {
    auto& c = candidates[f];
    std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    for (size_t i = 0; i < c.size() && static_cast<int64_t>(i) < options.best; ++i) list.best_[f].push_back(c[i].second);
  }
  std::vector<int64_t> always = most_frequent(pairs, Vt, options.frequent);
  for (int64_t special = 0; special < std::min(kSpecials, Vt); ++special) always.push_back(special);
  std::sort(always.begin(), always.end());
  always.erase(std::unique(always.begin(), always.end()), always.end());
  list.always_ = std::move(always);
  return list;
}

Shortlist Shortlist::whole(const text::Vocab& src_vocab, const text::Vocab& tgt_vocab) {
  Shortlist list(src_vocab, tgt_vocab);
  list.options_ = {.frequent = tgt_vocab.size(), .best = 1, .iterations = 0};
  for (int64_t e = 0; e < tgt_vocab.size(); ++e) list.always_.push_back(e);
  return list;
}

const std::vector<int64_t>& Shortlist::best(int64_t source_id) const {
  if (source_id < 0 || source_id >= source_size())
    fail("shortlist: source id {} is outside the source vocabulary's {} ids", source_id, source_size());
  return best_[static_cast<size_t>(source_id)];
}

std::vector<int64_t> Shortlist::vocabulary(const std::vector<int64_t>& source_ids) const {
  std::vector<char> in(static_cast<size_t>(target_size_), 0);
  for (int64_t e : always_) in[e] = 1;
  for (int64_t f : source_ids)
    for (int64_t e : best(f)) in[e] = 1;
  std::vector<int64_t> ids;
  for (int64_t e = 0; e < target_size_; ++e)
    if (in[e]) ids.push_back(e);
  return ids;
}

std::vector<int64_t> Shortlist::vocabulary(const Tensor& src) const {
  check_defined(src, "shortlist", "src");
  if (src.dtype() != DType::i64) fail("shortlist: the source must be int64 token ids, got {}", dtype_name(src.dtype()));
  return vocabulary(tg::contiguous_values(src).to_vector<int64_t>());
}

void Shortlist::save(const std::string& path) const {
  std::string text = fmt::format("{}\nvocab.src {} {:016x}\nvocab.tgt {} {:016x}\nfrequent {} best {} iterations {}\n",
                                 kFormat, source_size(), src_fingerprint_, target_size_, tgt_fingerprint_,
                                 options_.frequent, options_.best, options_.iterations);
  text += fmt::format("always {}\n", fmt::join(always_, " "));
  for (int64_t f = 0; f < source_size(); ++f) text += fmt::format("{}: {}\n", f, fmt::join(best_[f], " "));
  write_text_file(path, text);
}

Shortlist Shortlist::load(const std::string& path, const text::Vocab& src_vocab, const text::Vocab& tgt_vocab) {
  const std::vector<std::string> lines = text::read_lines(path);
  auto where = [&](size_t line) { return fmt::format("{}:{}", path, line + 1); };
  if (lines.empty() || lines[0] != kFormat)
    fail("{}: not a shortlist: expected the first line '{}', got '{}'", path, kFormat, lines.empty() ? "" : lines[0]);
  Shortlist list(src_vocab, tgt_vocab);
  const std::string vocab_lines[2] = {fmt::format("vocab.src {} {:016x}", src_vocab.size(), list.src_fingerprint_),
                                      fmt::format("vocab.tgt {} {:016x}", tgt_vocab.size(), list.tgt_fingerprint_)};
  for (size_t i = 0; i < 2; ++i)
    if (lines.size() <= i + 1 || lines[i + 1] != vocab_lines[i])
      fail("{}: made for other vocabularies: expected '{}' (the checkpoint's), got '{}'; build it again with "
           "`translate shortlist`",
           where(i + 1), vocab_lines[i], lines.size() > i + 1 ? lines[i + 1] : "");
  const int64_t Vs = src_vocab.size();
  if (static_cast<int64_t>(lines.size()) != 5 + Vs)
    fail("{}: expected {} lines (5 then one per source id), got {}", path, 5 + Vs, lines.size());
  std::istringstream settings(lines[3]);
  std::string frequent, best, iterations;
  settings >> frequent >> list.options_.frequent >> best >> list.options_.best >> iterations >> list.options_.iterations;
  if (!settings || frequent != "frequent" || best != "best" || iterations != "iterations")
    fail("{}: expected 'frequent F best K iterations N', got '{}'", where(3), lines[3]);
  if (lines[4].rfind("always", 0) != 0) fail("{}: expected 'always <ids>', got '{}'", where(4), lines[4]);
  list.always_ = parse_ids(std::string_view(lines[4]).substr(6), list.target_size_, where(4));
  for (int64_t f = 0; f < Vs; ++f) {
    const size_t line = static_cast<size_t>(5 + f);
    const std::string prefix = std::to_string(f) + ":";
    if (lines[line].rfind(prefix, 0) != 0)
      fail("{}: expected the line of source id {} ('{} <ids>'), got '{}'", where(line), f, prefix, lines[line]);
    list.best_[f] = parse_ids(std::string_view(lines[line]).substr(prefix.size()), list.target_size_, where(line));
  }
  return list;
}

Shortlist build_shortlist(const CheckpointInfo& info, const std::string& data_dir, const ShortlistOptions& options) {
  const std::string dir = text::find_multi30k_dir(data_dir);
  const SplitText train = read_split(dir, "train", info.settings.limit_train, info.codec.is_subword());
  std::vector<text::Example> pairs = text::encode_pairs(source_token_lists(info.codec, train),
                                                        target_token_lists(info.codec, train), info.src_vocab,
                                                        info.tgt_vocab);
  text::drop_long_examples(pairs, info.settings.max_len);
  return Shortlist::build(pairs, info.src_vocab, info.tgt_vocab, options);
}

double mean_batch_vocabulary(const Shortlist& list, const CheckpointInfo& info, const std::string& data_dir,
                             const std::string& split, int64_t batch) {
  const SplitText sentences = read_split(text::find_multi30k_dir(data_dir), split, 0, info.codec.is_subword());
  std::vector<int64_t> batch_ids;
  double words = 0;
  int64_t batches = 0, in_batch = 0;
  for (const std::vector<std::string>& tokens : source_token_lists(info.codec, sentences)) {
    for (int64_t id : info.src_vocab.encode(tokens)) batch_ids.push_back(id);
    if (++in_batch == batch) {
      words += static_cast<double>(list.vocabulary(batch_ids).size()), ++batches;
      batch_ids.clear(), in_batch = 0;
    }
  }
  return batches > 0 ? words / static_cast<double>(batches) : 0.0;
}

void use_shortlist_file(Translator& translator, const std::string& path) {
  translator.model->use_shortlist(
      std::make_shared<const Shortlist>(Shortlist::load(path, translator.info.src_vocab, translator.info.tgt_vocab)));
}

}  // namespace tg::translate
