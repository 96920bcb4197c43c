#include "serve/http_server.h"

#include <map>

#include "serve/batch_queue.h"
#include "serve/connections.h"
#include "serve/rate_limiter.h"

namespace tg::serve {

namespace {

// JSON text of an answer; bytes that are not UTF-8 (a message quoting a bad request) become U+FFFD.
std::string dump(const nlohmann::json& json) { return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// `message` cut to kMaxErrorBytes at a UTF-8 character boundary, saying how long it was.
std::string capped(const std::string& message) {
  if (message.size() <= kMaxErrorBytes) return message;
  size_t end = kMaxErrorBytes;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return fmt::format("{}... ({} bytes in all)", message.substr(0, end), message.size());
}

bool openai_route(const std::string& path) { return path.rfind("/v1/", 0) == 0; }

struct Route {
  Handler handler;
  RouteOptions options;
};

}  // namespace

Response json_response(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.body = dump(body);
  return r;
}

Response error_response(const std::string& path, int status, const std::string& message) {
  if (!openai_route(path)) return json_response({{"error", capped(message)}}, status);
  // OpenAI's shape: {"error": {"message", "type", "param", "code"}}
  const char* type = status >= 500 ? "server_error"
                     : status == 401 || status == 403 ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                                     : "invalid_request_error";
  const nlohmann::json code = status == 401 ? nlohmann::json("invalid_api_key") : nlohmann::json(nullptr);
  return json_response({{"error", {{"message", capped(message)}, {"type", type}, {"param", nullptr}, {"code", code}}}},
                       status);
}

class HttpServer::Impl {
 public:
  Impl(HttpServer& server, const ServerOptions& options)
      : limiter(options.rate_limit_per_minute),
        connections(options, [&server](Request& request) { return server.answer(request); }) {}

  std::map<std::string, std::map<std::string, Route>> exact;   // path -> method -> route
  std::map<std::string, std::map<std::string, Route>> prefix;  // path before '*' -> method -> route
  RateLimiter limiter;
  Connections connections;
};

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>(*this, options_)) {
  if (options_.threads < 1) fail("HttpServer: threads must be positive, got {}", options_.threads);
  if (options_.max_connections < 1) fail("HttpServer: max_connections must be positive, got {}", options_.max_connections);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& path, Handler handler, RouteOptions options) {
  auto& table = !path.empty() && path.back() == '*' ? impl_->prefix : impl_->exact;
  const std::string key = !path.empty() && path.back() == '*' ? path.substr(0, path.size() - 1) : path;
  table[key][method] = Route{std::move(handler), options};
}

void HttpServer::get_json(const std::string& path, std::function<nlohmann::json()> handler) {
  route("GET", path, [handler = std::move(handler)](const Request&, const BodyFields&) { return json_response(handler()); });
}

void HttpServer::get_document(const std::string& path, std::string content_type, std::string body) {
  Response document;
  document.content_type = std::move(content_type);
  document.body = std::move(body);
  route("GET", path, [document](const Request&, const BodyFields&) { return document; });
}

// A keyed route's key, then its rate: the key first, so that requests without it cannot use up the key
// holder's minute. With a key set, a request that proves it counts against the key; one that does not,
// against its address (a client guessing keys is limited too); without a key, every request against its
// address. Throws HttpError (401/403, or 429 with Retry-After).
void HttpServer::check_key_and_rate(const Request& request, const BodyFields& fields) {
  auto limit = [&](const std::string& client, const char* per) {
    if (options_.rate_limit_per_minute <= 0) return;
    if (const int64_t wait = impl_->limiter.wait_seconds(client); wait > 0)
      throw HttpError(429, fmt::format("too many requests: the limit is {} a minute per {} (--rate-limit)",
                                       options_.rate_limit_per_minute, per),
                      {{"Retry-After", std::to_string(wait)}});
  };
  if (options_.api_key.empty()) return limit("address " + request.remote_address, "client");
  std::string given = request.header("x-api-key");
  if (const std::string auth = request.header("authorization");
      auth.size() > 7 && ascii_lowercase(auth.substr(0, 7)) == "bearer ") {  // the scheme in any case (RFC 9110 11.1)
    given = auth.substr(7);
    given.erase(0, given.find_first_not_of(' '));  // all spaces: npos erases them all
  }
  if (const auto key = request.query.find("api_key"); key != request.query.end() && !key->second.empty())
    given = key->second;  // LibreTranslate reads ?api_key= too
  if (fields.fields.is_object())
    if (const auto key = fields.fields.find("api_key"); key != fields.fields.end() && key->is_string() &&
                                                        !key->get<std::string>().empty())
      given = key->get<std::string>();
  if (given.empty() || given != options_.api_key) {
    limit("address " + request.remote_address, "client without the key");
    const int status = openai_route(request.path) ? 401 : 403;
    if (given.empty())
      throw HttpError(status, "an API key is required (the body's \"api_key\", ?api_key=, X-API-Key or Authorization: Bearer)");
    throw HttpError(status, "invalid API key");
  }
  limit("key", "API key");
}

Response HttpServer::answer(Request& request) {
  Response response = answer_route(request);
  if (response.body.size() > options_.max_response_bytes)  // made, but not sent: one request cannot cost a client's RAM
    response = error_response(request.path, 400,
                              fmt::format("the answer would be {} bytes; the limit is {} (--max-response-bytes): ask "
                                          "for less (fewer sentences, alternatives or no attention)",
                                          response.body.size(), options_.max_response_bytes));
  if (!options_.cors_origin.empty()) {
    response.headers.emplace_back("Access-Control-Allow-Origin", options_.cors_origin);
    if (options_.cors_origin != "*") response.headers.emplace_back("Vary", "Origin");
  }
  return response;
}

Response HttpServer::answer_route(Request& request) {
  try {
    const std::map<std::string, Route>* methods = nullptr;
    if (const auto it = impl_->exact.find(request.path); it != impl_->exact.end()) methods = &it->second;
    for (const auto& [start, routes] : impl_->prefix)
      if (!methods && request.path.rfind(start, 0) == 0) methods = &routes;
    if (!methods) throw HttpError(404, fmt::format("no route {} {}", request.method, request.path));
    std::string allow;
    for (const auto& [method, unused] : *methods) allow += (allow.empty() ? "" : ", ") + method;
    if (methods->contains("GET")) allow += ", HEAD";
    if (request.method == "OPTIONS" && !options_.cors_origin.empty()) {  // a browser's CORS preflight
      Response preflight;
      preflight.status = 204;
      preflight.content_type.clear();
      preflight.headers = {{"Access-Control-Allow-Methods", allow},
                           {"Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key"},
                           {"Access-Control-Max-Age", "600"}};
      return preflight;
    }
    auto route = methods->find(request.method == "HEAD" ? "GET" : request.method);
    if (route == methods->end()) {
      Response refused = error_response(request.path, 405,
                                        fmt::format("{} {}: this route answers {}", request.method, request.path, allow));
      refused.headers.emplace_back("Allow", allow);
      return refused;
    }
    const RouteOptions& options = route->second.options;
    BodyFields fields;
    if (options.body != BodyRead::raw)
      fields = parse_body_fields(request.body, request.header("content-type"),
                                 options.body == BodyRead::json ? BodyKinds::json : BodyKinds::json_or_form);
    if (options.needs_key) check_key_and_rate(request, fields);
    return route->second.handler(request, fields);
  } catch (const HttpError& e) {
    Response refused = error_response(request.path, e.status(), e.what());
    for (const auto& header : e.headers()) refused.headers.push_back(header);
    return refused;
  } catch (const RequestTooLarge& e) {
    return error_response(request.path, 413, e.what());
  } catch (const QueueFull& e) {
    Response busy = error_response(request.path, 503, fmt::format("busy: {}; retry later", e.what()));
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  } catch (const std::exception& e) {
    return error_response(request.path, 500, e.what());
  }
}

int HttpServer::bind() { return impl_->connections.bind(); }

void HttpServer::serve() { impl_->connections.serve(); }

void HttpServer::stop() { impl_->connections.stop(); }

}  // namespace tg::serve
