#include "apps/translate/evaluate.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "data/text/corpus.h"
#include "data/text/tokenizer.h"
#include "apps/translate/search.h"

namespace tg::translate {

std::string data_file(const std::string& dir, const std::string& name) {
  const std::string gz = dir + "/" + name + ".gz", plain = dir + "/" + name;
  std::error_code ec;
  if (std::filesystem::exists(gz, ec)) return gz;
  if (std::filesystem::exists(plain, ec)) return plain;
  fail("data file not found: neither '{}' nor '{}' exists (set --data-dir or $MULTI30K_DIR, or run "
       "scripts/get_multi30k.sh)",
       gz, plain);
}

SplitText read_split(const std::string& dir, const std::string& split, int64_t limit, bool raw) {
  SplitText text;
  const std::string src_path = data_file(dir, split + ".lc.norm.tok.de");
  const std::string tgt_path = data_file(dir, split + ".lc.norm.tok.en");
  text.src_tok = text::read_lines(src_path);
  text.tgt_tok = text::read_lines(tgt_path);
  if (text.src_tok.size() != text.tgt_tok.size())
    fail("'{}' has {} lines but '{}' has {}", src_path, text.src_tok.size(), tgt_path, text.tgt_tok.size());
  if (raw)
    for (const auto& [lines, lang] : {std::pair{&text.src_raw, "de"}, {&text.tgt_raw, "en"}}) {
      const std::string raw_path = data_file(dir, split + "." + lang);
      *lines = text::read_lines(raw_path);
      if (lines->size() != text.tgt_tok.size())
        fail("'{}' has {} lines but '{}' has {}", raw_path, lines->size(), tgt_path, text.tgt_tok.size());
    }
  if (limit > 0 && static_cast<size_t>(limit) < text.src_tok.size())
    for (std::vector<std::string>* lines : {&text.src_tok, &text.tgt_tok, &text.src_raw, &text.tgt_raw})
      if (!lines->empty()) lines->resize(static_cast<size_t>(limit));
  return text;
}

SplitText read_parallel_text(const std::string& src_path, const std::string& ref_path, int64_t limit) {
  std::vector<std::pair<std::string, std::string>> pairs = text::read_parallel(src_path, ref_path);
  if (limit > 0 && static_cast<size_t>(limit) < pairs.size()) pairs.resize(static_cast<size_t>(limit));
  SplitText text;
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::string src = text::tokenize_line(pairs[i].first, "de");
    if (text::split_tokens(src).empty())
      fail("{}:{}: the source line is empty: expected a German sentence", src_path, i + 1);
    text.src_tok.push_back(std::move(src));
    text.tgt_tok.push_back(text::tokenize_line(pairs[i].second, "en"));
    text.src_raw.push_back(std::move(pairs[i].first));
    text.tgt_raw.push_back(std::move(pairs[i].second));
  }
  return text;
}

namespace {

// Words: the lc.norm.tok lines split; subwords: the codec's pieces of the raw lines.
template <typename Encode>
std::vector<std::vector<std::string>> token_lists(const std::vector<std::string>& tokenized,
                                                  const std::vector<std::string>& raw, bool subword, Encode encode,
                                                  const char* side) {
  std::vector<std::vector<std::string>> lists;
  if (subword && raw.size() != tokenized.size()) fail("{}_token_lists: subwords need the raw {} lines", side, side);
  for (size_t i = 0; i < tokenized.size(); ++i)
    lists.push_back(subword ? encode(raw[i]) : text::split_tokens(tokenized[i]));
  return lists;
}

}  // namespace

std::vector<std::vector<std::string>> source_token_lists(const text::TextCodec& codec, const SplitText& text) {
  return token_lists(text.src_tok, text.src_raw, codec.is_subword(),
                     [&](const std::string& raw) { return codec.source_tokens(raw); }, "source");
}

std::vector<std::vector<std::string>> target_token_lists(const text::TextCodec& codec, const SplitText& text) {
  return token_lists(text.tgt_tok, text.tgt_raw, codec.is_subword(),
                     [&](const std::string& raw) { return codec.target_tokens(raw); }, "target");
}

CorpusEvaluation evaluate_text(Seq2Seq& model, const text::TextCodec& codec, const text::Vocab& src_vocab,
                               const text::Vocab& tgt_vocab, const SplitText& text, int64_t beam,
                               LengthPenalty length_penalty) {
  if (text.tgt_raw.size() != text.tgt_tok.size())
    fail("evaluate_text: {} raw references for {} tokenized ones", text.tgt_raw.size(), text.tgt_tok.size());
  std::vector<std::vector<int64_t>> sources;
  for (const std::vector<std::string>& tokens : source_token_lists(codec, text)) sources.push_back(src_vocab.encode(tokens));
  CorpusEvaluation result;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::vector<std::string>> hyps = translate_ids(model, sources, tgt_vocab, beam, length_penalty, 64);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::vector<std::string>& tokens : hyps) {
    result.tokenized.push_back(codec.target_tokenized(tokens));
    result.detokenized.push_back(codec.target_text(tokens));
  }
  result.multi = text::multi_bleu(result.tokenized, text.tgt_tok, true);
  result.sacre = text::sacre_bleu(result.detokenized, text.tgt_raw);
  return result;
}

double corpus_loss(Seq2Seq& model, const std::vector<text::Example>& examples, int64_t batch_size) {
  NoGrad no_grad;
  const nn::EvalMode eval(model);
  double sum = 0;
  int64_t tokens = 0;
  for (const std::vector<int64_t>& indices : text::plan_eval(examples, batch_size)) {
    const text::Batch batch = text::make_batch(examples, indices).to(model.device());
    sum += model.loss(batch).item() * static_cast<double>(batch.num_tgt_tokens);
    tokens += batch.num_tgt_tokens;
  }
  return tokens == 0 ? 0.0 : sum / static_cast<double>(tokens);
}

int64_t output_limit(int64_t src_len) { return 2 * src_len + 10; }

void check_source_lengths(const std::vector<std::vector<std::string>>& sources, const std::string& name,
                          int64_t max_tokens) {
  for (size_t i = 0; i < sources.size(); ++i)
    if (static_cast<int64_t>(sources[i].size()) > max_tokens)
      fail("eval: line {} of {} has {} tokens; the limit is {} (--max-tokens): decoding time grows with the square "
           "of the length, so split the line, or raise --max-tokens",
           i + 1, name, sources[i].size(), max_tokens);
}

std::vector<std::vector<std::string>> translate_ids(Seq2Seq& model, const std::vector<std::vector<int64_t>>& sources,
                                                    const text::Vocab& tgt_vocab, int64_t beam,
                                                    LengthPenalty length_penalty, int64_t batch_size) {
  const nn::EvalMode eval(model);
  std::vector<std::vector<std::string>> out(sources.size());
  std::vector<text::Example> examples(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) examples[i].src = sources[i];
  // Batches of like length (longest first), written back in the order of `sources`.
  for (const std::vector<int64_t>& indices : text::plan_eval(examples, batch_size)) {
    const text::Batch batch = text::make_batch(examples, indices).to(model.device());
    std::vector<Hypothesis> hyps;
    if (beam <= 1) {
      const int64_t longest = batch.src.size(0);
      hyps = greedy_decode(model, batch.src, batch.src_lengths, batch.src_mask, output_limit(longest));
    } else {
      std::vector<int64_t> max_lens;  // each sentence's own limit, as when searched alone
      for (int64_t i : indices) max_lens.push_back(output_limit(static_cast<int64_t>(sources[i].size())));
      hyps = beam_search(model, batch.src, batch.src_lengths, batch.src_mask, beam, max_lens, length_penalty);
    }
    for (size_t k = 0; k < hyps.size(); ++k) out[static_cast<size_t>(indices[k])] = tgt_vocab.decode(hyps[k].tokens);
  }
  return out;
}

}  // namespace tg::translate
