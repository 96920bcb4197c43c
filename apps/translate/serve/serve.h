#pragma once
// `translate serve`: a loaded model (or ensemble) answers HTTP
// requests, sentences of concurrent requests decoded together
// (serve/batch_queue.h), on serve/http_server.h's limits:
//   POST /translate              LibreTranslate's format: {"q": "..." | ["...", ...], "source": "de" | "auto",
//                                "target": "en", "format": "text", "alternatives": N, "api_key": K}
//                                -> {"translatedText": ..., "alternatives": [...]}; with "attention": true
//                                also the attention weights (models with attention)
//   POST /translator/translate   OpenNMT-py's format: [{"src": "...", "id": 0, "n_best": N, "align": true}, ...]
//                                -> [[{"src", "tgt", "n_best", "pred_score", "align"}, ...]]
//   GET /models, GET /health, GET / (the page: serve_page.h)
// docs/serving.md has the details and curl examples.
#include <cstdint>
#include <string>
#include <vector>

#include "core/device.h"
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
  int64_t max_tokens = 100;       // per sentence, after tokenization
  int64_t max_sentences = 64;     // per request
  int64_t max_characters = 50000; // per request, all sentences, counted before tokenizing
};

// Loads the model, binds, prints "serving ... on http://host:port", answers
// until SIGTERM or SIGINT, then finishes the requests in flight and returns 0.
int run_server(const ServeOptions& options);

}  // namespace tg::translate
