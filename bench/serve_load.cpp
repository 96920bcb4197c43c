// bench_serve_load: a load test of `translate serve`. --clients
// threads send --requests POST /translate requests in all, each of one to
// five consecutive sentences of a text file (a seeded draw), over kept-alive
// connections, as fast as answers come. Prints the errors, the latency
// percentiles, sentences/s, and the server's resident memory (read from
// /proc/<--server-pid>/status) after the first thousand requests and at the end:
//
//   serve_load clients=64 requests=20000 errors=0 items=60012 seconds=.. items_per_s=..  (items: sentences or clips)
//     p50_ms=.. p95_ms=.. p99_ms=.. rss_first_mb=.. rss_last_mb=..
//
// bench/serve_load.sh starts the server, runs this at 1, 16, 64 and 256
// clients and the offline `translate eval` of the same sentences to compare.
// --idle-connections N holds N more connections open meanwhile that never
// send a byte, reconnecting each one the server closes (as the idle clients
// of a starvation attempt would).
// With --wav-dir, each request is instead one clip of that folder (a seeded
// draw) sent as the body of POST /transcribe to `speech serve`.
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "data/text/corpus.h"

namespace {

using Clock = std::chrono::steady_clock;

double rss_mb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return 0;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(values.size())));
  return values[i];
}

// A connection to host:port that sends nothing, or -1.
int idle_connection(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
  ::close(fd);
  return -1;
}

// Holds `count` idle connections open until `done`, reconnecting those the server closes; counts the reconnections.
void hold_idle_connections(const std::string& host, int port, int count, const std::atomic<bool>& done,
                           std::atomic<int64_t>& reconnections) {
  std::vector<pollfd> fds;
  for (int i = 0; i < count; ++i) fds.push_back({idle_connection(host, port), POLLIN, 0});
  while (!done) {
    ::poll(fds.data(), fds.size(), 50);
    for (pollfd& p : fds) {
      if (p.fd >= 0 && p.revents == 0) continue;
      char byte;
      if (p.fd >= 0 && ::recv(p.fd, &byte, 1, MSG_DONTWAIT) > 0) continue;  // never expected: the server sends first
      if (p.fd >= 0) ::close(p.fd);
      p.fd = idle_connection(host, port);
      p.revents = 0;
      ++reconnections;
    }
  }
  for (const pollfd& p : fds)
    if (p.fd >= 0) ::close(p.fd);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"load test of translate serve"};
  std::string host = "127.0.0.1", text_path;
  int port = 8080, clients = 64, server_pid = 0;
  int64_t requests = 20000, seed = 1;
  app.add_option("--host", host)->capture_default_str();
  app.add_option("--port", port)->required();
  std::string wav_dir;
  app.add_option("--text", text_path, "sentences, one a line (plain or .gz)");
  app.add_option("--wav-dir", wav_dir, "instead: POST /transcribe with the folder's .wav files as bodies");
  app.add_option("--clients", clients)->capture_default_str();
  app.add_option("--requests", requests)->capture_default_str();
  app.add_option("--server-pid", server_pid, "read its resident memory");
  app.add_option("--seed", seed)->capture_default_str();
  int idle_connections = 0;
  app.add_option("--idle-connections", idle_connections, "connections held open meanwhile that send nothing")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (text_path.empty() == wav_dir.empty()) {
    fmt::print(stderr, "bench_serve_load: give --text or --wav-dir\n");
    return 2;
  }
  std::vector<std::string> lines, clips;
  if (!text_path.empty()) lines = tg::text::read_lines(text_path);
  for (const auto& entry : std::filesystem::directory_iterator(wav_dir.empty() ? "." : wav_dir)) {
    if (wav_dir.empty() || entry.path().extension() != ".wav") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    clips.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (!wav_dir.empty() && clips.empty()) {
    fmt::print(stderr, "bench_serve_load: no .wav files in {}\n", wav_dir);
    return 2;
  }
  std::atomic<bool> finished = false;
  std::atomic<int64_t> reconnections = 0;
  std::thread idle_holder;
  if (idle_connections > 0) {
    idle_holder = std::thread(hold_idle_connections, host, port, idle_connections, std::cref(finished), std::ref(reconnections));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // open before the first request
  }
  std::atomic<int64_t> next = 0, errors = 0, sentences = 0, done = 0;
  std::mutex mutex;
  std::vector<double> latencies_ms;
  double rss_first = 0;
  std::string first_error;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_read_timeout(120);
      std::mt19937_64 rng(static_cast<uint64_t>(seed) * 1000 + static_cast<uint64_t>(c));
      std::vector<double> mine;
      while (next.fetch_add(1) < requests) {
        // A request: one to five sentences, or one clip.
        const size_t count = clips.empty() ? 1 + rng() % 5 : 1;
        std::string body = clips.empty() ? "" : clips[rng() % clips.size()];
        if (clips.empty()) {
          const size_t first = rng() % (lines.size() - count);
          body = nlohmann::json{{"q", std::vector<std::string>(lines.begin() + static_cast<long>(first),
                                                               lines.begin() + static_cast<long>(first + count))}}
                     .dump();
        }
        const Clock::time_point sent = Clock::now();
        const httplib::Result r = clips.empty() ? client.Post("/translate", body, "application/json")
                                                : client.Post("/transcribe", body, "audio/wav");
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        if (!r || r->status != 200) {
          ++errors;
          const std::lock_guard lock(mutex);
          if (first_error.empty()) first_error = r ? fmt::format("{} {}", r->status, r->body) : httplib::to_string(r.error());
        } else {
          sentences += static_cast<int64_t>(count);
        }
        if (++done == 1000 && server_pid > 0) {
          const std::lock_guard lock(mutex);
          rss_first = rss_mb(server_pid);
        }
      }
      const std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  for (std::thread& t : threads) t.join();
  finished = true;
  if (idle_holder.joinable()) idle_holder.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("serve_load clients={} idle={} idle_reconnections={} requests={} errors={} items={} seconds={:.2f} items_per_s={:.1f} p50_ms={:.1f} "
             "p95_ms={:.1f} p99_ms={:.1f} rss_first_mb={:.1f} rss_last_mb={:.1f}\n",
             clients, idle_connections, reconnections.load(), requests, errors.load(), sentences.load(), seconds, static_cast<double>(sentences) / seconds,
             percentile(latencies_ms, 50), percentile(latencies_ms, 95), percentile(latencies_ms, 99), rss_first,
             server_pid > 0 ? rss_mb(server_pid) : 0.0);
  if (!first_error.empty()) fmt::print(stderr, "first error: {}\n", first_error);
  return errors > 0 ? 1 : 0;
}
