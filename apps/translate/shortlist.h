#pragma once
// A lexical shortlist for decoding, as Marian's: which target tokens a batch
// may produce. For each source token, the `best` target tokens most likely to
// translate it, by the lexical probabilities t(e | f) of IBM Model 1 (Brown et
// al. 1993) trained by EM on the training pairs; and for every sentence the
// `frequent` most common target tokens and the specials. A batch decodes on
// the union U of its source tokens' lists and those: the output layer
// computes U rows instead of V, and the log-softmax normalises over U
// (Seq2Seq::restrict_output). With every target id in the list, decoding is
// the same as without one.
//
// The file (text, `translate shortlist` writes it beside the checkpoint):
//   tapegrad.shortlist.v1
//   vocab.src <V_src> <FNV-1a 64 of the vocabulary's to_string(), hex>
//   vocab.tgt <V_tgt> <hash>
//   frequent <F> best <K> iterations <n>
//   always <ids>          the specials and the F most frequent target ids, ascending
//   <f>: <ids>            one line per source id f = 0 .. V_src - 1: its best target ids, most likely first
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "data/text/batching.h"
#include "data/text/vocab.h"
#include "apps/translate/translation_checkpoint.h"

namespace tg::translate {

struct ShortlistOptions {
  int64_t frequent = 100;  // the most common target tokens, in every batch's list
  int64_t best = 20;       // per source token, its most likely translations
  int64_t iterations = 5;  // EM iterations of Model 1
};

class Shortlist {
 public:
  // Model 1 on `pairs` (source and target ids, no <bos>/<eos>) of these vocabularies.
  static Shortlist build(const std::vector<text::Example>& pairs, const text::Vocab& src_vocab,
                         const text::Vocab& tgt_vocab, const ShortlistOptions& options);
  // Every target id for every source id: decoding on it equals decoding without.
  static Shortlist whole(const text::Vocab& src_vocab, const text::Vocab& tgt_vocab);

  void save(const std::string& path) const;
  // Errors name the file and line; a list made for other vocabularies is
  // refused (sizes and fingerprints of both).
  static Shortlist load(const std::string& path, const text::Vocab& src_vocab, const text::Vocab& tgt_vocab);

  // The target ids a batch decodes on, ascending: the always-list and the
  // lists of the source ids in `src` (any shape, int64, any device).
  std::vector<int64_t> vocabulary(const Tensor& src) const;
  std::vector<int64_t> vocabulary(const std::vector<int64_t>& source_ids) const;

  const ShortlistOptions& options() const { return options_; }
  int64_t source_size() const { return static_cast<int64_t>(best_.size()); }
  int64_t target_size() const { return target_size_; }
  const std::vector<int64_t>& always() const { return always_; }
  const std::vector<int64_t>& best(int64_t source_id) const;  // most likely first

 private:
  Shortlist(const text::Vocab& src_vocab, const text::Vocab& tgt_vocab);
  ShortlistOptions options_;
  uint64_t src_fingerprint_ = 0, tgt_fingerprint_ = 0;
  int64_t target_size_ = 0;
  std::vector<int64_t> always_;
  std::vector<std::vector<int64_t>> best_;  // per source id
};

// The shortlist of a checkpoint's vocabularies from its training data: the
// Multi30k training pairs in `data_dir` (text::find_multi30k_dir) read with
// its codec, its limit-train and max-len, as training read them.
Shortlist build_shortlist(const CheckpointInfo& info, const std::string& data_dir, const ShortlistOptions& options);

// What a list keeps: the mean number of target words a batch of `batch`
// consecutive sentences of a Multi30k split decodes on (0 when the split has
// fewer than `batch` sentences).
double mean_batch_vocabulary(const Shortlist& list, const CheckpointInfo& info, const std::string& data_dir,
                             const std::string& split, int64_t batch);

// Loads `path` for the translator's vocabularies and decodes on it from now on.
void use_shortlist_file(Translator& translator, const std::string& path);

}  // namespace tg::translate
