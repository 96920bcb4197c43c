#include "apps/translate/serve/opennmt_api.h"

#include <filesystem>

#include "apps/translate/serve/serve_requests.h"

namespace tg::translate {

using nlohmann::json;

void add_opennmt_routes(serve::HttpServer& server, TranslationService& service) {
  // The request itself, not only its body: the batch queue needs its client address and whether the client has gone.
  auto translate = [&service](const serve::Request& http_request, const serve::BodyFields& body) {
    const ServeOptions& options = service.options();
    const OpenNmtRequest request = parse_opennmt(body.fields, options.beam, options.model_id);
    const std::vector<Translation> out =
        service.translate(request.texts, "src", request.n_best, request.align, http_request);
    json results = json::array();
    for (size_t i = 0; i < out.size(); ++i) {
      const Translation& t = out[i];
      json best = {{"src", request.texts[i]}, {"tgt", t.text}, {"n_best", request.n_best}, {"pred_score", t.score}};
      if (request.align) best["align"] = {hard_alignment(t)};
      results.push_back(best);
      for (const Alternative& a : t.alternatives)
        results.push_back({{"src", request.texts[i]}, {"tgt", a.text}, {"n_best", request.n_best}, {"pred_score", a.score}});
    }
    return serve::json_response(json::array({results}));
  };
  server.route("POST", "/translator/translate", translate, {.body = serve::BodyRead::json, .needs_key = true});
  server.get_json("/translator/models", [&service] {
    const ServeOptions& options = service.options();
    json files = json::array();
    for (const std::string& path : options.checkpoints) files.push_back(std::filesystem::path(path).filename().string());
    return json::array({{{"model_id", options.model_id},
                         {"models", files},
                         {"loaded", true},
                         {"timeout", -1},
                         {"opt", {{"beam_size", options.beam}, {"n_best", options.beam}}}}});
  });
  server.get_json("/translator/health", [] { return json{{"status", "ok"}}; });
}

}  // namespace tg::translate
