#include "apps/translate/serve/translation_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/shortlist.h"
#include "apps/translate/translation_checkpoint.h"
#include "data/text/multi30k_dir.h"
#include "data/text/corpus.h"
#include "serve/http_server.h"

namespace tg::translate {

namespace {

using nlohmann::json;
using serve::HttpError;

// Taught from Multi30k's German and English training sides (raw text, as users type it); nullptr when the
// data is not found, said on stderr.
std::unique_ptr<LanguageIdentifier> language_identifier_from(const std::string& data_dir_flag) {
  try {
    const std::string dir = text::find_multi30k_dir(data_dir_flag);
    auto identifier = std::make_unique<LanguageIdentifier>();
    for (const char* language : {"de", "en"})
      identifier->add(language, text::read_lines(fmt::format("{}/train.{}.gz", dir, language)));
    return identifier;
  } catch (const Error& e) {
    std::fprintf(stderr, "no language identifier (/detect answers 501; \"source\": \"auto\" reads de): %s\n", e.what());
    return nullptr;
  }
}

}  // namespace

int64_t utf8_characters(std::string_view text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string hard_alignment(const Translation& t) {
  if (!t.attention.defined()) return "";
  const int64_t rows = std::min<int64_t>(t.attention.size(0), static_cast<int64_t>(t.target_tokens.size()));
  const int64_t S = t.attention.size(1);
  const std::vector<float> w = tg::contiguous_values(t.attention).to_vector<float>();
  std::string pairs;
  for (int64_t i = 0; i < rows; ++i) {
    const auto row = w.begin() + i * S;
    const int64_t j = std::max_element(row, row + S) - row;
    pairs += fmt::format("{}{}-{}", pairs.empty() ? "" : " ", j, i);
  }
  return pairs;
}

json attention_json(const Translation& t) {
  if (!t.attention.defined()) return nullptr;
  const int64_t rows = t.attention.size(0), S = t.attention.size(1);
  const std::vector<float> w = tg::contiguous_values(t.attention).to_vector<float>();
  json weights = json::array();
  for (int64_t i = 0; i < rows; ++i) weights.push_back(std::vector<float>(w.begin() + i * S, w.begin() + (i + 1) * S));
  std::vector<std::string> target = t.target_tokens;
  if (rows > static_cast<int64_t>(target.size())) target.emplace_back("</s>");
  return {{"source", t.source_tokens}, {"target", target}, {"weights", weights}};
}

TranslationService::TranslationService(const ServeOptions& o)
    : options_(o),
      translator_(load_translators(o.checkpoints, o.device)),
      identifier_(language_identifier_from(o.data_dir)),
      queue_([this](const std::vector<SentenceJob>& jobs) { return run_batch(jobs); }, o.batching) {
  if (o.quantize == "int8") decode_with_int8_weights(translator_);
  if (!o.shortlist.empty()) use_shortlist_file(translator_, o.shortlist);
  has_attention_ = translator_.info.config.kind != "cho";
  models_ = describe_models();
}

json TranslationService::health() const {
  return json{{"status", "ok"}, {"waiting_sentences", queue_.waiting()}, {"batches", queue_.batches_run()}};
}

std::vector<Translation> TranslationService::run_batch(const std::vector<SentenceJob>& jobs) {
  std::vector<std::vector<std::string>> sources;
  int64_t n_best = 1;
  bool attention = false;
  for (const SentenceJob& job : jobs) {
    sources.push_back(job.tokens);
    n_best = std::max(n_best, job.n_best);
    attention = attention || job.attention;
  }
  std::vector<Translation> out = translate_sentences(translator_, sources, options_.beam, options_.length_penalty,
                                                     attention && has_attention_, options_.batching.max_batch, n_best);
  for (size_t i = 0; i < out.size(); ++i)
    out[i].alternatives.resize(std::min<size_t>(out[i].alternatives.size(), jobs[i].n_best - 1));
  return out;
}

std::vector<Translation> TranslationService::translate(const std::vector<std::string>& texts, const char* what,
                                                       int64_t n_best, bool attention, const serve::Request& request) {
  if (texts.empty()) throw HttpError(400, fmt::format("\"{}\" holds no sentence", what));
  check_limits(texts);
  std::vector<std::vector<std::string>> sources;
  try {
    sources = prepare_sources(translator_.info.codec, texts, what, options_.max_tokens, EmptyInput::keep);
  } catch (const Error& e) {
    throw HttpError(400, e.what());
  }
  std::vector<SentenceJob> jobs;
  for (std::vector<std::string>& tokens : sources) jobs.push_back({std::move(tokens), n_best, attention});
  return queue_.submit(std::move(jobs), request.remote_address, request.client_gone).get();
}

void TranslationService::check_limits(const std::vector<std::string>& texts) const {
  if (static_cast<int64_t>(texts.size()) > options_.max_sentences)
    throw HttpError(400, fmt::format("{} sentences in one request; the limit is {} (--max-sentences)", texts.size(),
                                     options_.max_sentences));
  // Characters (UTF-8 lead bytes) before any token is made: a long sentence costs little to count and
  // much to tokenize (a 1 MB sentence made ~250 MB of tokens before --max-tokens refused it).
  int64_t characters = 0;
  for (const std::string& text : texts) characters += utf8_characters(text);
  if (characters > options_.max_characters)
    throw HttpError(400, fmt::format("{} characters in one request; the limit is {} (--max-characters)", characters,
                                     options_.max_characters));
}

json TranslationService::describe_models() const {
  const CheckpointInfo& info = translator_.info;
  json members = json::array();
  for (const std::string& path : options_.checkpoints) {
    const CheckpointInfo member = read_checkpoint_info(path);
    members.push_back({{"checkpoint", std::filesystem::path(path).filename().string()},  // not the server's folders
                       {"validation_bleu", member.position.best_bleu >= 0 ? json(member.position.best_bleu) : json()},
                       {"epoch", member.position.epoch},
                       {"weights", member.weights}});
  }
  return json::array({{{"id", options_.model_id},
                       {"name", std::filesystem::path(options_.checkpoints.front()).stem().string()},
                       {"kind", info.config.kind},
                       {"cell", info.config.cell},
                       {"source", kSource},
                       {"target", kTarget},
                       {"vocabulary",
                        {{"kind", info.codec.is_subword() ? "subword" : "word"},
                         {"source", info.src_vocab.size()},
                         {"target", info.tgt_vocab.size()}}},
                       {"parameters", translator_.model->parameter_count()},
                       {"validation_bleu", members[0]["validation_bleu"]},
                       {"checkpoints", members},
                       {"beam", options_.beam},
                       {"quantize", translator_.model->quantized_for_decoding() ? "int8" : "none"},  // flag or file
                       {"shortlist", options_.shortlist.empty()  // its file name: the server's folders are not the clients' business
                                          ? json(nullptr)
                                          : json(std::filesystem::path(options_.shortlist).filename().string())}}});
}

}  // namespace tg::translate
