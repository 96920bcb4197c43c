#pragma once
// The flags `translate serve` and `speech serve` share: where the server
// listens, the limits that protect it (serve::ServerOptions) and its batch
// queue's (serve::BatchOptions). Each flag's default is the value the options
// already hold, so each program keeps its own defaults in its ServeOptions.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "examples/cli_checks.h"
#include "serve/batch_queue.h"
#include "serve/http_server.h"

namespace serve_flags {

// How a program's help names its unit of work, and the largest batch and
// queue it accepts.
struct Wording {
  const char* item;   // "sentence"
  const char* items;  // "sentences"
  double max_batch_limit;
  double max_queue_limit;
  const char* api_key_help;
};

// --host --port --api-key --max-batch --max-wait-ms --max-queue --max-client-queue
// --max-body-bytes --max-response-bytes --request-timeout --cors --rate-limit --connections --http-threads, written straight into
// `server` and `batching` (which must outlive the parse).
inline void add_to(CLI::App* cmd, tg::serve::ServerOptions& server, tg::serve::BatchOptions& batching,
                   const Wording& wording) {
  using cli_checks::between;
  cmd->add_option("--host", server.host, "address to listen on (127.0.0.1: this machine only)")->capture_default_str();
  cmd->add_option("--port", server.port, "port (0: any free one, printed)")
      ->check(between(0, 65535))
      ->capture_default_str();
  cmd->add_option("--api-key", server.api_key, wording.api_key_help);
  cmd->add_option("--max-batch", batching.max_batch, fmt::format("{} decoded together at most", wording.items))
      ->check(between(1, wording.max_batch_limit))
      ->capture_default_str();
  cmd->add_option_function<int64_t>(
         "--max-wait-ms", [&batching](int64_t ms) { batching.max_wait = std::chrono::milliseconds(ms); },
         fmt::format("how long a {} waits for others to fill its batch", wording.item))
      ->check(between(0, 10000))
      ->default_str(std::to_string(batching.max_wait.count()));
  cmd->add_option("--max-queue", batching.max_queue,
                  fmt::format("{} waiting at most (503 with Retry-After beyond)", wording.items))
      ->check(between(1, wording.max_queue_limit))
      ->capture_default_str();
  cmd->add_option("--max-client-queue", batching.max_client_queue,
                  fmt::format("{} one client (address) may have waiting at most (503 with Retry-After beyond; 0: "
                              "--max-queue)",
                              wording.items))
      ->check(between(0, wording.max_queue_limit))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", server.max_body_bytes, "refuse larger request bodies (413)")
      ->check(between(64, 1e9))
      ->capture_default_str();
  cmd->add_option_function<int64_t>(
         "--request-timeout", [&server](int64_t s) { server.request_timeout = std::chrono::seconds(s); },
         "seconds for a request to arrive whole; slower clients are dropped")
      ->check(between(1, 3600))
      ->default_str(std::to_string(server.request_timeout.count()));
  cmd->add_option("--max-response-bytes", server.max_response_bytes,
                  "refuse (400) a request whose answer would be larger (attention and alternatives grow fast)")
      ->check(between(1024, 1e10))
      ->capture_default_str();
  cmd->add_option("--cors", server.cors_origin,
                  "let pages from this origin call the API from a browser ('*': any origin): CORS headers on every "
                  "answer, OPTIONS preflights answered (default: none, same origin only)");
  cmd->add_option("--rate-limit", server.rate_limit_per_minute,
                  "requests a minute on the routes that need a key, per API key (or per address for requests without it) (429 beyond; 0: no limit)")
      ->check(between(0, 1e9))
      ->capture_default_str();
  cmd->add_option("--connections", server.max_connections, "connections open at once at most (idle and slow ones cost a socket, not a thread)")
      ->check(between(1, 1e6))
      ->capture_default_str();
  cmd->add_option("--http-threads", server.threads, "requests answered at once (the server's workers)")
      ->check(between(1, 4096))
      ->capture_default_str();
}

}  // namespace serve_flags
