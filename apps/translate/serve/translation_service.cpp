#include "apps/translate/serve/translation_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/shortlist.h"
#include "apps/translate/translation_checkpoint.h"
#include "data/text/multi30k_dir.h"
#include "serve/http_server.h"

namespace tg::translate {

namespace {

using nlohmann::json;
using serve::HttpError;

// The language identifier, from the first place that has one: --language-id's file; language_id.json beside a
// checkpoint (saved by translate train or translate langid); learned from Multi30k's training text; none
// (/detect answers 501). Which, said on stderr. A file that is there but unreadable stops the server rather than
// be passed over: the user saved it to be used.
std::unique_ptr<LanguageIdentifier> find_language_identifier(const ServeOptions& options) {
  std::string path = options.language_id;
  std::string beside = options.checkpoints.front();  // the checkpoint whose folder holds it, or should
  std::error_code ec;
  for (const std::string& checkpoint : options.checkpoints)
    if (path.empty() && std::filesystem::exists(language_identifier_path(checkpoint), ec)) {
      path = language_identifier_path(checkpoint);
      beside = checkpoint;
    }
  const auto remake = [&](const std::string& data_dir) {
    return fmt::format("translate langid --checkpoint {} --data-dir {}", beside, data_dir);
  };
  if (!path.empty()) {
    LanguageIdentifier loaded;
    try {
      loaded = LanguageIdentifier::load(path);
    } catch (const Error& e) {
      if (!options.language_id.empty())
        fail("{}; make it again with `translate langid --out {} --data-dir DIR --overwrite`", e.what(), path);
      fail("{}; make it again with `{} --overwrite`, or remove it to serve without it", e.what(), remake("DIR"));
    }
    const std::vector<std::string> languages = loaded.languages();
    for (const char* needed : {TranslationService::kSource, TranslationService::kTarget})
      if (std::find(languages.begin(), languages.end(), needed) == languages.end())
        fail("the language identifier '{}' knows {}; this model translates {} to {}, so it must know both",
             path, fmt::join(languages, " and "), TranslationService::kSource, TranslationService::kTarget);
    fmt::print(stderr, "language identifier: {} ({})\n", path, fmt::join(languages, ", "));
    return std::make_unique<LanguageIdentifier>(std::move(loaded));
  }
  try {
    const std::string dir = text::find_multi30k_dir(options.data_dir);
    auto learned = std::make_unique<LanguageIdentifier>(learn_language_identifier(dir));
    fmt::print(stderr,
               "language identifier: learned from the training text in {} (none saved beside the model; `{}` saves "
               "one there)\n",
               dir, remake(dir));
    return learned;
  } catch (const Error& e) {
    fmt::print(stderr,
               "no language identifier (/detect answers 501; \"source\": \"auto\" reads {}): none beside the model "
               "({}) and no training text to learn one from: {}; `{}` makes one, on a machine with Multi30k\n",
               TranslationService::kSource, language_identifier_path(options.checkpoints.front()), e.what(),
               remake("DIR"));
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
      identifier_(find_language_identifier(o)),
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
                       {"validation_bleu", member.position.best ? json(*member.position.best) : json()},
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
