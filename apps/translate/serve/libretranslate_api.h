#pragma once
// LibreTranslate's public API (its documentation's routes, fields and
// answers), JSON or form bodies:
//   POST /translate        {"q", "source", "target", "format", "alternatives", "api_key"}
//                          -> {"translatedText", "alternatives", "detectedLanguage"}
//   POST /detect           {"q"} -> [{"language", "confidence"}, ...]
//   GET|POST /languages    [{"code", "name", "targets"}]
//   POST /translate_file   multipart: file (.txt), source, target -> {"translatedFileUrl"}
//   GET /download_file/ID  the translated file (the last 64 are kept)
//   GET /frontend/settings the limits and defaults LibreTranslate's page asks for
// Languages: the model translates de to en; a text whose source is its
// target comes back as it was (as LibreTranslate answers); "source": "auto"
// asks the language identifier (German or English). Errors are
// {"error": message} with LibreTranslate's statuses (400, 403, 429, 500).
#include "apps/translate/serve/translation_service.h"
#include "serve/http_server.h"

namespace tg::translate {

void add_libretranslate_routes(serve::HttpServer& server, TranslationService& service);

}  // namespace tg::translate
