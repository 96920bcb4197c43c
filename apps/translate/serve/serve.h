#pragma once
// `translate serve`: a loaded model (or ensemble) answers HTTP
// requests, sentences of concurrent requests decoded together
// (serve/batch_queue.h), on serve/http_server.h's limits. LibreTranslate's
// API (JSON or form bodies):
//   POST /translate        {"q": "..." | [...], "source": "de" | "en" | "auto", "target": "en",
//                          "format": "text" | "html", "alternatives": N, "api_key": K}
//                          -> {"translatedText", "alternatives", "detectedLanguage" (source auto)};
//                          with "attention": true (ours) also the attention weights
//   POST /detect           {"q": "..."} -> [{"language", "confidence"}, ...]
//   GET|POST /languages    [{"code", "name", "targets"}]
//   POST /translate_file   multipart: file (.txt), source, target -> {"translatedFileUrl"}
//   GET /download_file/ID  the translated file
//   GET /frontend/settings what LibreTranslate's page asks first
// OpenNMT-py's, under its root:
//   POST /translator/translate  [{"src": "...", "id": ID, "n_best": N, "align": true}, ...]
//                               -> [[{"src", "tgt", "n_best", "pred_score", "align"}, ...]]
//   GET /translator/models, GET /translator/health
// and GET /models, GET /health, GET / (the page: serve_page.h).
// docs/serving.md has the details and examples with curl and with clients others wrote.
#include <cstdint>
#include <string>
#include <vector>

#include "core/types/device.h"
#include "apps/translate/search.h"
#include "serve/batch_queue.h"
#include "serve/http_server.h"

namespace tg::translate {

struct ServeOptions {
  std::vector<std::string> checkpoints;  // several: an ensemble
  Device device = Device::cpu();
  serve::ServerOptions server;
  serve::BatchOptions batching{.max_batch = 64};  // 64: 0.80 of offline throughput under 64 clients, 32: 0.77
  int64_t beam = 5;
  LengthPenalty length_penalty = 1.0;
  std::string quantize = "none";  // int8: Seq2Seq::quantize_for_decoding
  std::string shortlist;          // a `translate shortlist` file to decode on (use_shortlist_file), or none
  int64_t max_tokens = 100;       // per sentence, after tokenization
  int64_t max_sentences = 64;     // per request
  int64_t max_characters = 50000; // per request, all sentences, counted before tokenizing
  int64_t model_id = 0;           // in OpenNMT-py's routes
  // The language identifier: this file (saved by translate train or translate langid); "": language_id.json
  // beside the checkpoints, else one learned from Multi30k in data_dir ("": $MULTI30K_DIR, then the cache).
  std::string language_id;
  std::string data_dir;
};

// Loads the model, binds, prints "serving ... on http://host:port", answers
// until SIGTERM or SIGINT, then finishes the requests in flight and returns 0.
int run_server(const ServeOptions& options);

}  // namespace tg::translate
