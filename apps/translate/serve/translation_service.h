#pragma once
// What `translate serve`'s routes share: the loaded model (or ensemble)
// behind a batch queue that decodes the sentences of concurrent requests
// together, the request limits, the language identifier, and what the model
// translates (de -> en). The API formats (libretranslate_api.h,
// opennmt_api.h) are routes over it.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/translate/serve/language_id.h"
#include "apps/translate/serve/serve.h"
#include "apps/translate/translate_text.h"
#include "serve/batch_queue.h"

namespace tg::translate {

// One sentence of a request, as the batch function gets it.
struct SentenceJob {
  std::vector<std::string> tokens;  // empty: answered with ""
  int64_t n_best = 1;
  bool attention = false;
};

class TranslationService {
 public:
  explicit TranslationService(const ServeOptions& options);

  // Checked, tokenized and decoded (waits for the batch queue, where `request`'s
  // client takes turns with the others and its sentences are dropped once it has
  // gone); `what` names the field in messages. Throws serve::HttpError 400 past a
  // limit, serve::Cancelled when the client has gone.
  std::vector<Translation> translate(const std::vector<std::string>& texts, const char* what, int64_t n_best,
                                     bool attention, const serve::Request& request);
  // The request-wide limits (sentences, characters) on a request's texts, before any is chosen to translate.
  void check_limits(const std::vector<std::string>& texts) const;

  static constexpr const char* kSource = "de";
  static constexpr const char* kTarget = "en";
  const ServeOptions& options() const { return options_; }
  bool has_attention() const { return has_attention_; }
  // nullptr when none was saved beside the model and no training text was found to learn one from (said on
  // stderr at start).
  const LanguageIdentifier* language_identifier() const { return identifier_.get(); }
  // GET /models: made once (it reads every checkpoint's metadata).
  const nlohmann::json& models() const { return models_; }
  nlohmann::json health() const;
  void stop() { queue_.stop(); }

 private:
  std::vector<Translation> run_batch(const std::vector<SentenceJob>& jobs);
  nlohmann::json describe_models() const;

  const ServeOptions& options_;
  Translator translator_;
  bool has_attention_ = false;
  nlohmann::json models_;
  std::unique_ptr<LanguageIdentifier> identifier_;
  serve::BatchQueue<SentenceJob, Translation> queue_;
};

// Characters of UTF-8 text (its lead bytes), as the request limits count them: cheap to count before any
// token is made.
int64_t utf8_characters(std::string_view text);

// "src-tgt" pairs, OpenNMT-py's hard alignment: each target token's most attended source token.
std::string hard_alignment(const Translation& t);
// {"source": [...], "target": [...], "weights": [[...]]}: row i = target token i (then </s> when finished).
nlohmann::json attention_json(const Translation& t);

}  // namespace tg::translate
