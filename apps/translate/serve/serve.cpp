#include "apps/translate/serve/serve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "serve/stop_signals.h"
#include "apps/translate/serve/serve_page.h"
#include "apps/translate/serve/serve_requests.h"
#include "apps/translate/translate_text.h"
#include "apps/translate/translation_checkpoint.h"

namespace tg::translate {

namespace {

using nlohmann::json;
using serve::HttpError;

// One sentence of a request, as the batch function gets it.
struct SentenceJob {
  std::vector<std::string> tokens;  // empty: answered with ""
  int64_t n_best = 1;
  bool attention = false;
};

// "src-tgt" pairs, OpenNMT-py's hard alignment: each target token's most attended source token.
std::string hard_alignment(const Translation& t) {
  if (!t.attention.defined()) return "";
  const int64_t rows = std::min<int64_t>(t.attention.size(0), static_cast<int64_t>(t.target_tokens.size()));
  const int64_t S = t.attention.size(1);
  const std::vector<float> w = t.attention.contiguous().to_vector<float>();
  std::string pairs;
  for (int64_t i = 0; i < rows; ++i) {
    const auto row = w.begin() + i * S;
    const int64_t j = std::max_element(row, row + S) - row;
    pairs += fmt::format("{}{}-{}", pairs.empty() ? "" : " ", j, i);
  }
  return pairs;
}

// {"source": [...], "target": [...], "weights": [[...]]}: row i = target token i (then </s> when finished).
json attention_json(const Translation& t) {
  if (!t.attention.defined()) return nullptr;
  const int64_t rows = t.attention.size(0), S = t.attention.size(1);
  const std::vector<float> w = t.attention.contiguous().to_vector<float>();
  json weights = json::array();
  for (int64_t i = 0; i < rows; ++i) weights.push_back(std::vector<float>(w.begin() + i * S, w.begin() + (i + 1) * S));
  std::vector<std::string> target = t.target_tokens;
  if (rows > static_cast<int64_t>(target.size())) target.emplace_back("</s>");
  return {{"source", t.source_tokens}, {"target", target}, {"weights", weights}};
}

class TranslationService {
 public:
  explicit TranslationService(const ServeOptions& o)
      : options_(o),
        translator_(load_translators(o.checkpoints, o.device)),
        queue_([this](const std::vector<SentenceJob>& jobs) { return run_batch(jobs); }, o.batching) {
    if (o.quantize == "int8") translator_.model->quantize_for_decoding();
    has_attention_ = translator_.info.config.kind != "cho";
    models_ = describe_models();
  }

  void add_routes(serve::HttpServer& server) {
    server.post_json("/translate", [this](const json& body) { return libretranslate(body); });
    server.post_json("/translator/translate", [this](const json& body) { return opennmt(body); });
    server.get_json("/models", [this] { return models_; });
    server.get_json("/health", [this] {
      return json{{"status", "ok"}, {"waiting_sentences", queue_.waiting()}, {"batches", queue_.batches_run()}};
    });
    server.get_document("/", "text/html; charset=utf-8", translate_page());
  }

  void stop() { queue_.stop(); }

 private:
  std::vector<Translation> run_batch(const std::vector<SentenceJob>& jobs) {
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
    for (size_t i = 0; i < out.size(); ++i) out[i].alternatives.resize(std::min<size_t>(out[i].alternatives.size(),
                                                                                         jobs[i].n_best - 1));
    return out;
  }

  // Tokenized, checked sentences of a request, decoded (waits for the batch queue).
  std::vector<Translation> translate(const std::vector<std::string>& texts, const char* what, int64_t n_best,
                                     bool attention) {
    if (texts.empty()) throw HttpError(400, fmt::format("\"{}\" holds no sentence", what));
    if (static_cast<int64_t>(texts.size()) > options_.max_sentences)
      throw HttpError(400, fmt::format("{} sentences in one request; the limit is {} (--max-sentences)", texts.size(),
                                       options_.max_sentences));
    // Characters (UTF-8 lead bytes) before any token is made: a long sentence costs little to count and
    // much to tokenize (a 1 MB sentence made ~250 MB of tokens before --max-tokens refused it).
    int64_t characters = 0;
    for (const std::string& text : texts)
      for (const char c : text) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (characters > options_.max_characters)
      throw HttpError(400, fmt::format("{} characters in one request; the limit is {} (--max-characters)", characters,
                                       options_.max_characters));
    std::vector<std::vector<std::string>> sources;
    try {
      sources = prepare_sources(translator_.info.codec, texts, what, options_.max_tokens, EmptyInput::keep);
    } catch (const Error& e) {
      throw HttpError(400, e.what());
    }
    std::vector<SentenceJob> jobs;
    for (std::vector<std::string>& tokens : sources) jobs.push_back({std::move(tokens), n_best, attention});
    return queue_.submit(std::move(jobs)).get();
  }

  json libretranslate(const json& body) {
    const LibreRequest request = parse_libretranslate(body, options_.beam);
    const std::vector<Translation> out =
        translate(request.texts, "q", request.alternatives + 1, request.attention);
    auto one = [&](const Translation& t, json& text, json& alts, json& att) {
      text = t.text;
      alts = json::array();
      for (const Alternative& a : t.alternatives) alts.push_back(a.text);
      att = attention_json(t);
    };
    json answer;
    if (!request.list) {
      one(out[0], answer["translatedText"], answer["alternatives"], answer["attention"]);
    } else {
      for (const Translation& t : out) {
        json text, alts, att;
        one(t, text, alts, att);
        answer["translatedText"].push_back(text);
        answer["alternatives"].push_back(alts);
        answer["attention"].push_back(att);
      }
    }
    if (request.alternatives == 0) answer.erase("alternatives");
    if (!request.attention) answer.erase("attention");
    return answer;
  }

  json opennmt(const json& body) {
    const OpenNmtRequest request = parse_opennmt(body, options_.beam);
    const std::vector<std::string>& texts = request.texts;
    const int64_t n_best = request.n_best;
    const bool align = request.align;
    const std::vector<Translation> out = translate(texts, "src", n_best, align);
    json results = json::array();
    for (size_t i = 0; i < out.size(); ++i) {
      const Translation& t = out[i];
      json best = {{"src", texts[i]}, {"tgt", t.text}, {"n_best", n_best}, {"pred_score", t.score}};
      if (align) best["align"] = {hard_alignment(t)};
      results.push_back(best);
      for (const Alternative& a : t.alternatives)
        results.push_back({{"src", texts[i]}, {"tgt", a.text}, {"n_best", n_best}, {"pred_score", a.score}});
    }
    return json::array({results});
  }

  // What GET /models answers, made once (it reads every checkpoint's metadata).
  json describe_models() const {
    const CheckpointInfo& info = translator_.info;
    json members = json::array();
    for (const std::string& path : options_.checkpoints) {
      const CheckpointInfo member = read_checkpoint_info(path);
      members.push_back({{"checkpoint", std::filesystem::path(path).filename().string()},  // not the server's folders
                         {"validation_bleu", member.position.best_bleu >= 0 ? json(member.position.best_bleu) : json()},
                         {"epoch", member.position.epoch}});
    }
    return json::array({{{"id", 0},
                         {"name", std::filesystem::path(options_.checkpoints.front()).stem().string()},
                         {"kind", info.config.kind},
                         {"cell", info.config.cell},
                         {"source", "de"},
                         {"target", "en"},
                         {"vocabulary",
                          {{"kind", info.codec.is_subword() ? "subword" : "word"},
                           {"source", info.src_vocab.size()},
                           {"target", info.tgt_vocab.size()}}},
                         {"parameters", translator_.model->parameter_count()},
                         {"validation_bleu", members[0]["validation_bleu"]},
                         {"checkpoints", members},
                         {"beam", options_.beam},
                         {"quantize", options_.quantize}}});
  }

  const ServeOptions& options_;
  Translator translator_;
  bool has_attention_ = false;
  json models_;
  serve::BatchQueue<SentenceJob, Translation> queue_;
};

}  // namespace

int run_server(const ServeOptions& options) {
  TranslationService service(options);
  serve::HttpServer server(options.server);
  service.add_routes(server);
  serve::serve_until_signal(server, [&](int port) {
    return fmt::format("serving {} ({}) on http://{}:{} (beam {}, batches of up to {} sentences, {} ms wait)",
                       options.checkpoints.front(), options.checkpoints.size() > 1 ? "an ensemble" : "one model",
                       options.server.host, port, options.beam, options.batching.max_batch,
                       options.batching.max_wait.count());
  });
  service.stop();
  fmt::print("stopped\n");
  return 0;
}

}  // namespace tg::translate
