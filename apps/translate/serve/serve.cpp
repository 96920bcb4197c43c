#include "apps/translate/serve/serve.h"

#include <fmt/format.h>

#include "apps/translate/serve/libretranslate_api.h"
#include "apps/translate/serve/opennmt_api.h"
#include "apps/translate/serve/serve_page.h"
#include "apps/translate/serve/translation_service.h"
#include "core/services/host_allocator.h"
#include "serve/serve_until_signal.h"

namespace tg::translate {

int run_server(const ServeOptions& options) {
  TranslationService service(options);
  serve::ServerOptions server_options = options.server;
  server_options.release_memory = [] { tg::host_release_cached(); };  // after a burst, the tensors' cache too
  serve::HttpServer server(server_options);
  add_libretranslate_routes(server, service);
  add_opennmt_routes(server, service);
  server.get_json("/models", [&service] { return service.models(); });
  server.get_json("/health", [&service] { return service.health(); });
  server.get_document("/", "text/html; charset=utf-8", translate_page());
  serve::serve_until_signal(server, [&](int port) {
    return fmt::format("serving {} ({}) on {} (beam {}, batches of up to {} sentences, {} ms wait)",
                       options.checkpoints.front(), options.checkpoints.size() > 1 ? "an ensemble" : "one model",
                       serve::http_url(options.server.host, port), options.beam, options.batching.max_batch,
                       options.batching.max_wait.count());
  });
  service.stop();
  fmt::print("stopped\n");
  return 0;
}

}  // namespace tg::translate
