#include "apps/translate/translate_text.h"

#include <algorithm>
#include <filesystem>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "data/text/corpus.h"
#include "data/text/tokenizer.h"
#include "data/text/utf8.h"
#include "apps/translate/evaluate.h"
#include "plot/svg.h"
#include "apps/translate/search.h"

namespace tg::translate {

std::vector<std::string> read_input_lines(std::istream& in, const std::string& name) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    text::check_utf8_line(line, name, lines.size() + 1);
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::vector<std::string>> prepare_sources(const text::TextCodec& codec, const std::vector<std::string>& inputs,
                                                      const std::string& what, int64_t max_tokens,
                                                      EmptyInput empty) {
  std::vector<std::vector<std::string>> sources;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (const auto offset = text::find_invalid_utf8(inputs[i]))
      fail("{} {}: invalid UTF-8 at byte {} (byte 0x{:02X}); expected UTF-8 text", what, i + 1, *offset,
           static_cast<unsigned char>(inputs[i][*offset]));
    // White space alone is no sentence, whatever pieces a subword model makes of it: the word
    // tokenizer decides (for a word codec, the source tokens are that tokenizer's).
    const bool blank = codec.is_subword() && text::tokenize(inputs[i], "de").empty();
    std::vector<std::string> tokens = blank ? std::vector<std::string>{} : codec.source_tokens(inputs[i]);
    if (tokens.empty() && empty == EmptyInput::refuse) fail("{} {} is empty: expected a German sentence", what, i + 1);
    if (static_cast<int64_t>(tokens.size()) > max_tokens)
      fail("{} {} has {} tokens; the limit is {} (--max-tokens): split it into shorter sentences", what, i + 1,
           tokens.size(), max_tokens);
    sources.push_back(std::move(tokens));
  }
  return sources;
}

std::vector<Translation> translate_sentences(Translator& translator,
                                             const std::vector<std::vector<std::string>>& sources, int64_t beam,
                                             LengthPenalty length_penalty, bool with_attention, int64_t batch_size,
                                             int64_t n_best) {
  if (n_best < 1 || n_best > std::max<int64_t>(beam, 1))
    fail("translate_sentences: n_best must be in [1, beam = {}], got {}", std::max<int64_t>(beam, 1), n_best);
  std::vector<Translation> out(sources.size());
  std::vector<text::Example> examples;  // the sentences that have tokens
  std::vector<size_t> place;            // examples[j] is sources[place[j]]
  for (size_t i = 0; i < sources.size(); ++i) {
    out[i].source_tokens = sources[i];
    if (sources[i].empty()) continue;  // stays an empty translation
    text::Example e;
    e.src = translator.info.src_vocab.encode(sources[i]);
    examples.push_back(std::move(e));
    place.push_back(i);
  }
  if (examples.empty()) return out;
  Seq2Seq& model = *translator.model;
  for (const std::vector<int64_t>& indices : text::plan_eval(examples, batch_size)) {
    const text::Batch batch = text::make_batch(examples, indices).to(model.device());
    std::vector<int64_t> max_lens;
    for (int64_t j : indices) max_lens.push_back(output_limit(static_cast<int64_t>(examples[j].src.size())));
    const std::vector<std::vector<Hypothesis>> ranked = beam_search_n_best(
        model, batch.src, batch.src_lengths, batch.src_mask, std::max<int64_t>(beam, 1), max_lens, length_penalty,
        with_attention);
    for (size_t k = 0; k < ranked.size(); ++k) {
      Translation& t = out[place[static_cast<size_t>(indices[k])]];
      const Hypothesis& best = ranked[k].front();
      t.target_tokens = translator.info.tgt_vocab.decode(best.tokens);
      t.text = translator.info.codec.target_text(t.target_tokens);
      t.attention = best.attention;
      t.finished = best.finished;
      t.score = normalized_score(best, length_penalty);
      for (size_t a = 1; a < ranked[k].size() && static_cast<int64_t>(a) < n_best; ++a) {
        Alternative alt;
        alt.target_tokens = translator.info.tgt_vocab.decode(ranked[k][a].tokens);
        alt.text = translator.info.codec.target_text(alt.target_tokens);
        alt.score = normalized_score(ranked[k][a], length_penalty);
        t.alternatives.push_back(std::move(alt));
      }
    }
  }
  return out;
}

Translation translate_tokens(Translator& translator, const std::vector<std::string>& source_tokens, int64_t beam,
                             LengthPenalty length_penalty) {
  return translate_sentences(translator, {source_tokens}, beam, length_penalty, true).front();
}

std::string translation_attention_svg(const Translation& t, const Translator& translator) {
  if (!t.attention.defined()) fail("translation_attention_svg: this model has no attention");
  const text::TextCodec& codec = translator.info.codec;
  std::vector<std::string> source, target;
  for (const std::string& s : t.source_tokens)
    source.push_back(translator.info.src_vocab.contains(s) ? codec.display(s) : "<unk> (" + codec.display(s) + ")");
  for (const std::string& s : t.target_tokens) target.push_back(codec.display(s));
  if (t.finished) target.emplace_back("<eos>");
  // Rows beyond the labels (should not happen) are dropped rather than mislabelled.
  const int64_t rows = std::min<int64_t>(t.attention.size(0), static_cast<int64_t>(target.size()));
  target.resize(static_cast<size_t>(rows));
  const std::vector<float> all = tg::contiguous_values(t.attention).to_vector<float>();
  const std::vector<float> kept(all.begin(), all.begin() + rows * t.attention.size(1));
  return plot::attention_svg(source, target, from_vector(kept, Shape{rows, t.attention.size(1)}, {DType::f32}),
                       "Where each English word looked in the German sentence");
}

std::string indexed_path(const std::string& path, int64_t index, int64_t count) {
  if (count <= 1) return path;
  const std::filesystem::path p(path);
  std::filesystem::path out = p.parent_path() / (p.stem().string() + "-" + std::to_string(index) + p.extension().string());
  return out.string();
}

}  // namespace tg::translate
