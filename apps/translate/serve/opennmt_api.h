#pragma once
// OpenNMT-py's REST server, under its root /translator:
//   POST /translator/translate  [{"src": "...", "id": ID, "n_best": N, "align": true}, ...]
//                               -> [[{"src", "tgt", "n_best", "pred_score", "align"}, ...]]
//                               (a sentence's n_best answers, best first)
//   GET /translator/models      [{"model_id", "models", "loaded", "timeout", "opt"}]
//   GET /translator/health      {"status": "ok"}
// The model's id is --model-id (0 by default), as OpenNMT-py's config gives ids.
#include "apps/translate/serve/translation_service.h"
#include "serve/http_server.h"

namespace tg::translate {

void add_opennmt_routes(serve::HttpServer& server, TranslationService& service);

}  // namespace tg::translate
