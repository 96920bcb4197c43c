// `translate serve` as a client meets it: the program on a
// loopback port with a tiny trained model; every endpoint of LibreTranslate's
// and OpenNMT-py's APIs in each body type, answers equal to the translator's
// own for the same search however requests are batched, alternatives and the
// attention, each bad input and limit with its status and message, the API
// key, the rate limit, the queue full, a client gone before its batch (its
// sentences never decoded), SIGTERM with requests in flight (all answered,
// exit 0), memory given back after a burst; the language identifier on its
// own, its file, and where the server takes it from (beside the model, the
// corpus, none); the HTML splitter on its own. (The HTTP server's own
// behaviour: tests/test_http_server.cpp and test_http_hostile.cpp.)
#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tiny_translation.h"
#include "apps/translate/serve/html_entities.h"
#include "apps/translate/serve/html_text.h"
#include "apps/translate/serve/language_id.h"
#include "apps/translate/translate_text.h"
#include "apps/translate/translation_checkpoint.h"

extern char** environ;

namespace {

using nlohmann::json;
using namespace tiny_translation;

// What a server starts from besides its flags.
struct ServerStart {
  std::string checkpoint;          // "": trained_checkpoint()
  std::vector<std::string> unset;  // environment variables it does not inherit
};

// `translate serve` started with extra flags on a free port; stopped (SIGTERM) when destroyed.
class Server {
 public:
  explicit Server(const std::vector<std::string>& flags, const ServerStart& start = {}) {
    const std::string program = translate_program();
    REQUIRE(!program.empty());
    dir_ = temp_dir("serve_" + std::to_string(counter_++));
    const std::string checkpoint = start.checkpoint.empty() ? trained_checkpoint() : start.checkpoint;
    std::vector<std::string> args = {program, "serve", "--checkpoint", checkpoint, "--port", "0", "--threads", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::none_of(start.unset.begin(), start.unset.end(),
                       [&](const std::string& name) { return std::string(*e).rfind(name + "=", 0) == 0; }))
        env.push_back(*e);
    env.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir_ + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), env.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);
    const std::regex serving(R"(on http://(?:127\.0\.0\.1|\[::1\]|0\.0\.0\.0):(\d+))");
    for (int i = 0; i < 600 && port_ == 0; ++i) {  // up to a minute to load and bind
      std::smatch m;
      const std::string out = read_file(dir_ + "/out");
      if (std::regex_search(out, m, serving)) port_ = std::stoi(m[1]);
      else std::this_thread::sleep_for(std::chrono::milliseconds(100));
      int status = 0;
      if (port_ == 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("translate serve exited: " << read_file(dir_ + "/err"));
      }
    }
    REQUIRE_MESSAGE(port_ > 0, read_file(dir_ + "/err"));
  }
  ~Server() {
    if (pid_ > 0) stop();
  }
  // SIGTERM (or `signal`); the exit status.
  int stop(int signal = SIGTERM) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60);
    return c;
  }
  int port() const { return port_; }
  // A memory figure of the server's /proc/PID/status in MB: "VmRSS" (resident now) or "VmHWM" (its peak).
  double memory_mb(const std::string& field) const {
    const std::string status = read_file("/proc/" + std::to_string(pid_) + "/status");
    const size_t at = status.find(field + ":");
    REQUIRE(at != std::string::npos);
    return std::stod(status.substr(at + field.size() + 1)) / 1024.0;  // kB
  }
  std::string out() const { return read_file(dir_ + "/out"); }
  std::string err() const { return read_file(dir_ + "/err"); }

 private:
  static inline int counter_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Answer {
  int status = 0;
  json body;
  std::string retry_after;
  std::string allow;
};

Answer post(const Server& server, const std::string& path, const std::string& body,
            const std::string& content_type = "application/json", const httplib::Headers& headers = {}) {
  httplib::Client c = server.client();
  const httplib::Result r = c.Post(path.c_str(), headers, body, content_type.c_str());
  REQUIRE_MESSAGE(r, "POST " << path << " " << body.substr(0, 80) << ": " << httplib::to_string(r.error()));
  Answer a;
  a.status = r->status;
  a.body = json::parse(r->body, nullptr, false);
  a.retry_after = r->get_header_value("Retry-After");
  a.allow = r->get_header_value("Allow");
  return a;
}

Answer get(const Server& server, const std::string& path) {
  httplib::Client c = server.client();
  const httplib::Result r = c.Get(path.c_str());
  REQUIRE(r);
  return {r->status, json::parse(r->body, nullptr, false), "", r->get_header_value("Allow")};
}

// A plain TCP connection to the server, for requests no client library would send.
int connect_to(const Server& server) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

// Sends `request` as is on a new connection and returns all the server writes until it closes (or 10 s pass).
std::string raw_exchange(const Server& server, const std::string& request) {
  const int fd = connect_to(server);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, static_cast<size_t>(n));
  close(fd);
  return answer;
}

void check_error(const Answer& a, int status, const std::string& message) {
  CHECK(a.status == status);
  REQUIRE(a.body.is_object());
  CHECK_MESSAGE(a.body.value("error", "").find(message) != std::string::npos, a.body.dump());
}

// German sentences of the validation split, as a user would send them.
std::vector<std::string> some_sentences(size_t count) {
  const std::string dir = data_dir();
  std::vector<std::string> lines = tg::text::read_lines(dir + "/val.lc.norm.tok.de.gz");
  lines.resize(std::min(count, lines.size()));
  return lines;
}

// What the translator itself answers (translate_sentences, the search of translate eval and translate translate).
std::vector<std::string> expected_translations(const std::vector<std::string>& sentences, int64_t beam) {
  tr::Translator t = tr::load_translator(trained_checkpoint());
  const auto sources = tr::prepare_sources(t.info.codec, sentences, "sentence", 100, tr::EmptyInput::keep);
  std::vector<std::string> texts;
  for (const tr::Translation& x : tr::translate_sentences(t, sources, beam, 1.0, false)) texts.push_back(x.text);
  return texts;
}

}  // namespace

TEST_CASE("translate serve: endpoints, both formats, answers equal the translator's however requests are batched") {
  Server server({"--beam", "3", "--max-batch", "8", "--max-wait-ms", "20"});
  const Answer health = get(server, "/health");
  CHECK(health.status == 200);
  CHECK(health.body["status"] == "ok");
  const Answer models = get(server, "/models");
  REQUIRE(models.status == 200);
  REQUIRE(models.body.is_array());
  const json& model = models.body[0];
  CHECK(model["kind"] == "bahdanau");
  CHECK(model["source"] == "de");
  CHECK(model["target"] == "en");
  CHECK(model["parameters"].get<int64_t>() > 1000);
  CHECK(model["vocabulary"]["target"].get<int64_t>() > 4);
  CHECK(model["beam"] == 3);
  CHECK(models.body.dump().find(trained_checkpoint()) == std::string::npos);  // no folder of the server's machine
  CHECK(model.contains("validation_bleu"));
  {
    httplib::Client c = server.client();
    const httplib::Result page = c.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("Content-Type").find("text/html") == 0);
    CHECK(page->body.find("<canvas id=\"heatmap\"") != std::string::npos);
  }

  // 24 sentences in 12 concurrent requests of two: batched together by the server, each answer is
  // what the translator gives for that sentence.
  const std::vector<std::string> sentences = some_sentences(24);
  const std::vector<std::string> expected = expected_translations(sentences, 3);
  std::vector<std::future<Answer>> answers;
  for (size_t i = 0; i < sentences.size(); i += 2)
    answers.push_back(std::async(std::launch::async, [&, i] {
      return post(server, "/translate", json{{"q", {sentences[i], sentences[i + 1]}}, {"source", "de"}, {"target", "en"}}.dump());
    }));
  for (size_t k = 0; k < answers.size(); ++k) {
    const Answer a = answers[k].get();
    REQUIRE(a.status == 200);
    CHECK(a.body["translatedText"][0] == expected[2 * k]);
    CHECK(a.body["translatedText"][1] == expected[2 * k + 1]);
    CHECK_FALSE(a.body.contains("alternatives"));
  }

  // A string in, a string out; unknown fields are ignored; alternatives and attention when asked.
  const Answer one = post(server, "/translate",
                          json{{"q", sentences[0]}, {"source", "auto"}, {"alternatives", 2}, {"attention", true},
                               {"client", "test"}}.dump());
  REQUIRE(one.status == 200);
  CHECK(one.body["translatedText"] == expected[0]);
  CHECK(one.body["alternatives"].size() <= 2);
  CHECK(one.body["alternatives"].size() >= 1);
  for (const json& alt : one.body["alternatives"]) CHECK(alt != one.body["translatedText"]);
  const json& att = one.body["attention"];
  REQUIRE(att.is_object());
  CHECK(att["weights"].size() == att["target"].size());
  for (const json& row : att["weights"]) {
    CHECK(row.size() == att["source"].size());
    double sum = 0;
    for (const json& w : row) sum += w.get<double>();
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
  }
  // An empty sentence gets an empty answer.
  const Answer empty = post(server, "/translate", json{{"q", ""}}.dump());
  CHECK(empty.status == 200);
  CHECK(empty.body["translatedText"] == "");

  // OpenNMT-py's format: n_best answers per sentence, best first, with scores and the hard alignment.
  const Answer onmt = post(server, "/translator/translate",
                           json::array({{{"src", sentences[1]}, {"id", 0}, {"n_best", 2}, {"align", true}},
                                        {{"src", sentences[2]}, {"id", 0}}}).dump());
  REQUIRE(onmt.status == 200);
  REQUIRE(onmt.body.is_array());
  const json& results = onmt.body[0];
  REQUIRE(results.size() >= 3);
  CHECK(results[0]["src"] == sentences[1]);
  CHECK(results[0]["tgt"] == expected[1]);
  CHECK(results[0]["n_best"] == 2);
  CHECK(results[0]["pred_score"].get<double>() <= 0);
  CHECK(results[0]["pred_score"].get<double>() >= results[1]["pred_score"].get<double>());
  CHECK(std::regex_match(results[0]["align"][0].get<std::string>(), std::regex(R"((\d+-\d+)( \d+-\d+)*)")));
  // The request's n_best (the largest asked) applies to each of its sentences: the second's best follows the
  // first's entries.
  const auto second = std::find_if(results.begin(), results.end(), [&](const json& r) { return r["src"] == sentences[2]; });
  REQUIRE(second != results.end());
  CHECK((*second)["tgt"] == expected[2]);

  CHECK(server.stop() == 0);
  CHECK(server.out().find("stopped") != std::string::npos);
}

TEST_CASE("translate serve: bad input and limits answer their status with a message naming the problem") {
  Server server({"--beam", "2", "--max-sentences", "3", "--max-tokens", "6", "--max-body-bytes", "2000",
                 "--max-characters", "500"});
  check_error(post(server, "/translate", "{\"q\": "), 400, "invalid JSON body");
  check_error(post(server, "/translate", "{\"alternatives\": 1e999999}"), 400, "invalid JSON body: number overflow");  // found by fuzz_serve_request
  check_error(post(server, "/translate", "hallo", "text/plain"), 415,
              "expected Content-Type application/json, application/x-www-form-urlencoded or multipart/form-data, got "
              "'text/plain'");
  check_error(post(server, "/translate", "{\"q\": \"ein \xff hund\"}"), 400, "invalid JSON body");
  check_error(post(server, "/translate", "\"ein hund\""), 400, "expected a JSON object or array, got string");
  check_error(post(server, "/translate", "{\"text\": \"ein hund\"}"), 400, "Invalid request: missing q parameter");
  check_error(post(server, "/translate", "{\"q\": 7}"), 400, "q must be a string or a list of strings, got number");
  check_error(post(server, "/translate", "{\"q\": \"ein hund\", \"source\": \"fr\"}"), 400,
              "fr is not supported: this server's languages are de and en (source)");
  check_error(post(server, "/translate", "{\"q\": \"a dog\", \"source\": \"en\", \"target\": \"de\"}"), 400,
              "en to de is not supported: this model translates de to en");
  check_error(post(server, "/translate", "{\"q\": \"ein hund\", \"format\": \"rtf\"}"), 400, "format 'rtf' is not text or html");
  check_error(post(server, "/translate", "{\"q\": \"ein hund\", \"alternatives\": 2}"), 400,
              "alternatives must be between 0 and 1 (the server's --beam 2)");
  check_error(post(server, "/translate", "{\"q\": \"ein hund\", \"alternatives\": \"two\"}"), 400,
              "alternatives parameter is not a number, got \"two\"");
  check_error(post(server, "/translate", "{\"q\": [\"a\", \"b\", \"c\", \"d\"]}"), 400,
              "4 sentences in one request; the limit is 3 (--max-sentences)");
  check_error(post(server, "/translate", "{\"q\": []}"), 400, "q holds no text");
  check_error(post(server, "/translate", "{\"q\": [\"ok\", \"ein mann und eine frau gehen auf der straße\"]}"), 400,
              "q 2 has 9 tokens; the limit is 6");
  check_error(post(server, "/translate", json{{"q", std::string(3000, 'a')}}.dump()), 413, "too large");
  check_error(post(server, "/translate", json{{"q", {std::string(700, 'a'), "ein hund"}}}.dump()), 400,
              "708 characters in one request; the limit is 500 (--max-characters)");
  std::string umlauts;  // characters, not bytes: ä is 2 bytes
  for (int i = 0; i < 250; ++i) umlauts += "\u00e4";
  const Answer under = post(server, "/translate", json{{"q", umlauts}}.dump());  // 500 bytes, 250 characters
  CHECK_MESSAGE(under.body.value("error", "").find("characters") == std::string::npos, under.body.dump());
  check_error(post(server, "/translate", json{{"q", umlauts + umlauts + "\u00e4"}}.dump()), 400,
              "501 characters in one request; the limit is 500 (--max-characters)");
  check_error(post(server, "/translator/translate", "[{\"src\": \"ein hund\", \"id\": 7}]"), 400,
              "no model with id 7; this server has model 0");
  check_error(post(server, "/translator/translate", "[{\"text\": \"ein hund\"}]"), 400,
              "each item must be an object with a string \"src\"");
  check_error(post(server, "/translator/translate", "{\"src\": \"ein hund\"}"), 400, "expected a JSON list");
  check_error(get(server, "/nothing"), 404, "no route GET /nothing");
  // A route asked with another method: 405 and Allow.
  const Answer wrong_get = get(server, "/translate");
  check_error(wrong_get, 405, "GET /translate: this route answers POST");
  CHECK(wrong_get.allow == "POST");
  const Answer wrong_post = post(server, "/health", "{}");
  check_error(wrong_post, 405, "POST /health: this route answers GET");
  CHECK(wrong_post.allow == "GET, HEAD");
  // An error quoting the request is cut to a few hundred bytes, not echoed whole.
  const Answer long_source = post(server, "/translate", json{{"q", "ein hund"}, {"source", std::string(1500, 'x')}}.dump());
  check_error(long_source, 400, "xxxxxxxx");
  CHECK(long_source.body["error"].get<std::string>().size() < 400);
  CHECK(long_source.body["error"].get<std::string>().find("bytes in all)") != std::string::npos);
  // Still answering after all that.
  CHECK(post(server, "/translate", "{\"q\": \"ein hund\"}").status == 200);
}

TEST_CASE("translate serve: the API key, the queue full") {
  {
    Server server({"--api-key", "s3cret"});
    check_error(post(server, "/translate", "{\"q\": \"ein hund\"}"), 403, "an API key is required");
    check_error(post(server, "/translate", "{\"q\": \"ein hund\", \"api_key\": \"guess\"}"), 403, "invalid API key");
    CHECK(post(server, "/translate", "{\"q\": \"ein hund\", \"api_key\": \"s3cret\"}").status == 200);
    CHECK(post(server, "/translator/translate", "[{\"src\": \"ein hund\"}]", "application/json",
               {{"X-API-Key", "s3cret"}}).status == 200);
    CHECK(get(server, "/health").status == 200);  // GET routes need no key
  }
  {
    // Two sentences can never queue where one may wait: 413 naming the limit, no Retry-After (a retry cannot
    // succeed). A queue full for now is 503 with Retry-After (tests/test_batch_queue.cpp).
    Server server({"--max-queue", "1"});
    const Answer too_large = post(server, "/translate", "{\"q\": [\"ein hund\", \"eine katze\"]}");
    check_error(too_large, 413, "this request has 2 items; the queue holds at most 1 (--max-queue)");
    CHECK(too_large.retry_after.empty());
    CHECK(post(server, "/translate", "{\"q\": \"ein hund\"}").status == 200);
  }
  {
    // Likewise for one client's share (the tests' requests all come from one address).
    Server server({"--max-client-queue", "1"});
    const Answer too_large =
        post(server, "/translator/translate", "[{\"src\": \"ein hund\"}, {\"src\": \"eine katze\"}]");
    check_error(too_large, 413, "this request has 2 items; one client may have at most 1 waiting (--max-client-queue)");
    CHECK(too_large.retry_after.empty());
    CHECK(post(server, "/translator/translate", "[{\"src\": \"ein hund\"}]").status == 200);
  }
}

TEST_CASE("translate serve: hostile requests: deep nesting, conflicting Content-Length") {
  Server server({"--max-body-bytes", "1000000"});
  // 100,000 nested lists on both routes (60,000 once overflowed the stack of /translator/translate): refused
  // before parsing, and the server answers on.
  for (const std::string path : {"/translator/translate", "/translate"}) {
    CAPTURE(path);
    check_error(post(server, path, "[{\"src\": " + std::string(100000, '[')), 400,
                "invalid JSON body: nested deeper than 64 levels");
    check_error(post(server, path, std::string(65, '[') + std::string(65, ']')), 400, "nested deeper than 64 levels");
  }
  // Brackets inside a string do not count.
  CHECK(post(server, "/translate", json{{"q", "ein hund " + std::string(80, '[')}}.dump()).status == 200);
  // Two Content-Length headers that differ: 400, and the connection is closed (request smuggling).
  const std::string answer = raw_exchange(
      server, "POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\n"
              "Content-Length: 5\r\n\r\n{\"q\": \"ein hund\"}");
  CHECK_MESSAGE(answer.rfind("HTTP/1.1 400", 0) == 0, answer);
  CHECK(answer.find("two Content-Length headers that differ") != std::string::npos);
  CHECK(post(server, "/translate", "{\"q\": \"ein hund\"}").status == 200);
}

TEST_CASE("translate serve: SIGTERM answers the requests in flight, then exits 0") {
  Server server({"--max-wait-ms", "1500", "--max-batch", "64"});
  const std::vector<std::string> sentences = some_sentences(3);
  std::vector<std::future<Answer>> answers;
  for (const std::string& s : sentences)
    answers.push_back(std::async(std::launch::async, [&server, s] { return post(server, "/translate", json{{"q", s}}.dump()); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the requests wait for their batch
  std::future<int> status = std::async(std::launch::async, [&] { return server.stop(); });
  for (std::future<Answer>& a : answers) CHECK(a.get().status == 200);
  CHECK(status.get() == 0);
  CHECK(server.err().find("SIGTERM: finishing the requests in flight") != std::string::npos);
}

TEST_CASE("translate serve: a client gone before its batch is formed: its sentences are dropped, never decoded") {
  Server server({"--max-wait-ms", "3000"});
  auto health = [&](const char* field) { return get(server, "/health").body[field].get<int64_t>(); };
  const int64_t batches = health("batches");
  const std::string body = json{{"q", some_sentences(3)}}.dump();
  const std::string request = fmt::format(
      "POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
      body.size(), body);
  const int fd = connect_to(server);
  REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  for (int i = 0; i < 100 && health("waiting_sentences") < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(health("waiting_sentences") == 3);  // queued, waiting up to 3 s for others to join
  const linger reset{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close(fd);  // a reset
  for (int i = 0; i < 200 && health("waiting_sentences") > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(health("waiting_sentences") == 0);
  CHECK(health("batches") == batches);  // dropped when their batch would have been formed
  CHECK(post(server, "/translate", "{\"q\": \"ein hund\"}").status == 200);
  CHECK(health("batches") == batches + 1);
}

TEST_CASE("translate serve: SIGHUP stops it as SIGTERM does; an IPv6 host in brackets; a warning beyond loopback") {
  {
    Server server({"--max-wait-ms", "1500"});
    std::future<Answer> answer =
        std::async(std::launch::async, [&server] { return post(server, "/translate", json{{"q", "ein hund"}}.dump()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the request waits for its batch
    std::future<int> status = std::async(std::launch::async, [&] { return server.stop(SIGHUP); });
    CHECK(answer.get().status == 200);
    CHECK(status.get() == 0);
    CHECK(server.err().find("SIGHUP: finishing the requests in flight") != std::string::npos);
    CHECK(server.err().find("warning") == std::string::npos);  // loopback: no warning
  }
  const int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 loopback6{};
  loopback6.sin6_family = AF_INET6;
  loopback6.sin6_addr = in6addr_loopback;
  const bool has_ipv6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&loopback6), sizeof loopback6) == 0;
  if (probe >= 0) close(probe);
  if (has_ipv6) {
    Server server({"--host", "::1"});
    CHECK(server.out().find("on http://[::1]:" + std::to_string(server.port()) + " ") != std::string::npos);
    CHECK(server.err().find("warning") == std::string::npos);
  } else {
    MESSAGE("no IPv6 loopback here: the bracketed URL is not checked");
  }
  Server open({"--host", "0.0.0.0"});
  CHECK(open.err().find("warning: listening on http://0.0.0.0:" + std::to_string(open.port()) +
                        " without --api-key") != std::string::npos);
  Server keyed({"--host", "0.0.0.0", "--api-key", "s3cret"});
  CHECK(keyed.err().find("warning") == std::string::npos);
}

TEST_CASE("translate serve: LibreTranslate's API: form and multipart bodies, languages, detect, files, html") {
  Server server({"--beam", "3", "--rate-limit", "1000", "--model-id", "7", "--data-dir", data_dir()});
  const std::vector<std::string> sentences = some_sentences(2);
  const std::vector<std::string> expected = expected_translations(sentences, 3);
  // The same request as JSON, as a form (charset given), and as multipart: the same answer.
  const Answer as_json = post(server, "/translate", json{{"q", sentences[0]}, {"source", "de"}, {"target", "en"},
                                                          {"alternatives", 1}}.dump());
  REQUIRE(as_json.status == 200);
  CHECK(as_json.body["translatedText"] == expected[0]);
  CHECK(as_json.body["alternatives"].size() == 1);
  CHECK_FALSE(as_json.body.contains("detectedLanguage"));  // only for source auto
  std::string encoded;
  for (const unsigned char c : sentences[0]) encoded += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  const Answer as_form = post(server, "/translate", "q=" + encoded + "&source=de&target=en&alternatives=1",
                              "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(as_form.status == 200);
  CHECK(as_form.body == as_json.body);
  const std::string multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\n" + sentences[0] +
                                "\r\n--b0undary\r\nContent-Disposition: form-data; name=\"alternatives\"\r\n\r\n1\r\n"
                                "--b0undary\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\nde\r\n--b0undary--\r\n";
  const Answer as_multipart = post(server, "/translate", multipart, "multipart/form-data; boundary=b0undary");
  CHECK(as_multipart.status == 200);
  CHECK(as_multipart.body == as_json.body);
  // source auto: the detected language with its confidence (0..100); English to English comes back as it was.
  const Answer detected = post(server, "/translate", json{{"q", {sentences[1], "a man is riding a bike ."}},
                                                           {"source", "auto"}, {"target", "en"}}.dump());
  REQUIRE(detected.status == 200);
  CHECK(detected.body["translatedText"][0] == expected[1]);
  CHECK(detected.body["translatedText"][1] == "a man is riding a bike .");
  CHECK(detected.body["detectedLanguage"][0]["language"] == "de");
  CHECK(detected.body["detectedLanguage"][1]["language"] == "en");
  CHECK(detected.body["detectedLanguage"][0]["confidence"].get<double>() > 50);
  CHECK(detected.body["detectedLanguage"][0]["confidence"].get<double>() <= 100);
  // POST /detect: every language the identifier knows, the likeliest first, confidences summing to 100.
  const Answer detect = post(server, "/detect", "q=ein+mann+f%C3%A4hrt+mit+dem+fahrrad", "application/x-www-form-urlencoded");
  REQUIRE(detect.status == 200);
  REQUIRE(detect.body.size() == 2);
  CHECK(detect.body[0]["language"] == "de");
  CHECK(detect.body[0]["confidence"].get<double>() + detect.body[1]["confidence"].get<double>() == doctest::Approx(100).epsilon(0.01));
  check_error(post(server, "/detect", "{}"), 400, "Invalid request: missing q parameter");
  // GET and POST /languages, GET /frontend/settings.
  for (const Answer& languages : {get(server, "/languages"), post(server, "/languages", "")}) {
    REQUIRE(languages.status == 200);
    CHECK(languages.body == json::parse(R"([{"code":"de","name":"German","targets":["en"]},
                                            {"code":"en","name":"English","targets":[]}])"));
  }
  const Answer settings = get(server, "/frontend/settings");
  CHECK(settings.body["charLimit"] == 50000);
  CHECK(settings.body["keyRequired"] == false);
  CHECK(settings.body["supportedFilesFormat"] == json({".txt"}));
  // format html: the text between the tags is translated, the markup kept.
  const Answer html = post(server, "/translate", json{{"q", "<p class=\"x\">" + sentences[0] + "</p><br/><script>var a = 1;</script>"},
                                                       {"source", "de"}, {"format", "html"}}.dump());
  REQUIRE(html.status == 200);
  std::string escaped;
  for (const char c : expected[0]) escaped += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
  CHECK(html.body["translatedText"] == "<p class=\"x\">" + escaped + "</p><br/><script>var a = 1;</script>");
  // POST /translate_file: a .txt, each line translated, empty lines kept; downloaded from the URL given.
  const std::string file = "--f\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
                           "Content-Type: text/plain\r\n\r\n" + sentences[0] + "\n\n" + sentences[1] +
                           "\r\n--f\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\nde\r\n"
                           "--f\r\nContent-Disposition: form-data; name=\"target\"\r\n\r\nen\r\n--f--\r\n";
  const Answer translated_file = post(server, "/translate_file", file, "multipart/form-data; boundary=f");
  REQUIRE(translated_file.status == 200);
  const std::string url = translated_file.body["translatedFileUrl"];
  const std::string prefix = "http://127.0.0.1:" + std::to_string(server.port()) + "/download_file/";
  REQUIRE(url.rfind(prefix, 0) == 0);
  CHECK(url.substr(url.size() - 10) == ".notes.txt");
  {
    httplib::Client c = server.client();
    const httplib::Result download = c.Get(url.substr(url.find("/download_file/")).c_str());
    REQUIRE(download);
    CHECK(download->status == 200);
    CHECK(download->body == expected[0] + "\n\n" + expected[1]);
    CHECK(download->get_header_value("Content-Disposition") == "attachment; filename=\"notes.txt\"");
  }
  check_error(get(server, "/download_file/nothing.txt"), 404, "no such file");
  check_error(post(server, "/translate_file", "--f\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\nx\r\n--f--\r\n",
                   "multipart/form-data; boundary=f"), 400, "file format not supported: 'a.pdf'");
  check_error(post(server, "/translate_file", "source=de", "application/x-www-form-urlencoded"), 400, "missing file parameter");
  // The file must be UTF-8 text whatever the languages: source = target had stored binary unchecked and served it
  // as UTF-8 text.
  const auto upload = [](const std::string& filename, const std::string& content, const std::string& source) {
    return "--f\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\n\r\n" + content +
           "\r\n--f\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\n" + source +
           "\r\n--f\r\nContent-Disposition: form-data; name=\"target\"\r\n\r\nen\r\n--f--\r\n";
  };
  check_error(post(server, "/translate_file", upload("bin.txt", std::string("\x89PNG\xff\xfe", 6), "en"),
                   "multipart/form-data; boundary=f"),
              400, "the file is not UTF-8 text (byte 0)");
  // A 5,000-character name keeps its .txt in the download's name.
  const Answer long_name = post(server, "/translate_file", upload(std::string(5000, 'n') + ".txt", "a dog", "en"),
                                "multipart/form-data; boundary=f");
  REQUIRE(long_name.status == 200);
  const std::string long_url = long_name.body["translatedFileUrl"];
  CHECK(long_url.substr(long_url.size() - 4) == ".txt");
  CHECK(long_url.size() < 200);
  // /detect is held to --max-characters too.
  Server small({"--max-characters", "10", "--data-dir", data_dir()});
  check_error(post(small, "/detect", json{{"q", "ein hund rennt"}}.dump()), 400, "14 characters to detect; the limit is 10");
  // OpenNMT-py's routes under /translator, the model's id from --model-id.
  CHECK(get(server, "/translator/health").body == json{{"status", "ok"}});
  const Answer onmt_models = get(server, "/translator/models");
  CHECK(onmt_models.body[0]["model_id"] == 7);
  CHECK(onmt_models.body[0]["loaded"] == true);
  CHECK(post(server, "/translator/translate", json::array({{{"src", sentences[0]}, {"id", 7}}}).dump()).body[0][0]["tgt"] == expected[0]);
  check_error(post(server, "/translator/translate", json::array({{{"src", sentences[0]}, {"id", 0}}}).dump()), 400,
              "no model with id 0; this server has model 7");
}

TEST_CASE("translate serve: the API key as Bearer, the rate limit per key") {
  Server server({"--api-key", "s3cret", "--rate-limit", "3"});
  CHECK(post(server, "/translate", "{\"q\": \"ein hund\"}", "application/json", {{"Authorization", "Bearer s3cret"}}).status == 200);
  CHECK(post(server, "/translate", "q=ein+hund&api_key=s3cret", "application/x-www-form-urlencoded").status == 200);
  CHECK(get(server, "/languages").status == 200);  // no key, not counted
  check_error(post(server, "/detect", "{\"q\": \"ein hund\"}"), 403, "an API key is required");  // the address's, not the key's
  CHECK(post(server, "/translate", "{\"q\": \"ein hund\", \"api_key\": \"s3cret\"}").status == 200);
  const Answer limited = post(server, "/translate", "{\"q\": \"ein hund\", \"api_key\": \"s3cret\"}");
  check_error(limited, 429, "too many requests: the limit is 3 a minute per API key (--rate-limit)");
  CHECK(!limited.retry_after.empty());
}

TEST_CASE("language identifier: Multi30k's validation sentences, German and English, told apart") {
  tr::LanguageIdentifier identifier;
  const std::string dir = data_dir();
  for (const char* language : {"de", "en"})
    identifier.add(language, tg::text::read_lines(fmt::format("{}/train.{}.gz", dir, language)));
  CHECK(identifier.languages() == std::vector<std::string>{"de", "en"});
  for (const char* language : {"de", "en"}) {
    CAPTURE(language);
    const std::vector<std::string> val = tg::text::read_lines(fmt::format("{}/val.{}.gz", dir, language));
    int64_t right = 0;
    for (const std::string& s : val) right += identifier.detect(s).front().language == language;
    MESSAGE(std::string(language) << ": " << right << " of " << val.size() << " validation sentences");
    CHECK(static_cast<double>(right) / static_cast<double>(val.size()) >= 0.99);
  }
  const auto guesses = identifier.detect("Zwei Hunde spielen im Schnee.");
  REQUIRE(guesses.size() == 2);
  CHECK(guesses[0].language == "de");
  CHECK(guesses[0].confidence + guesses[1].confidence == doctest::Approx(100).epsilon(0.002));
  CHECK(tr::LanguageIdentifier().detect("anything").empty());
}

namespace {

// What LanguageIdentifier::load says of a file holding `text`, or "(loaded)".
std::string load_error(const std::string& path, const std::string& text) {
  tg::write_text_file(path, text);
  try {
    tr::LanguageIdentifier::load(path);
  } catch (const tg::Error& e) {
    return e.what();
  }
  return "(loaded)";
}

// Texts to detect: sentences of both languages, and short or odd ones whose posteriors are not 100 and 0, so
// that comparing rounded confidences compares more than the winner.
std::vector<std::string> texts_to_detect() {
  std::vector<std::string> texts = {"a", "die", "in", "an", "der man", "Hallo!", "Straße", "\xff\xfe", "  ", "1 2 3"};
  for (const char* language : {"de", "en"}) {
    std::vector<std::string> val = tg::text::read_lines(fmt::format("{}/val.{}.gz", data_dir(), language));
    val.resize(std::min<size_t>(val.size(), 100));
    texts.insert(texts.end(), val.begin(), val.end());
  }
  return texts;
}

}  // namespace

TEST_CASE("language identifier: saved and loaded, it detects exactly as before and saves the same file again") {
  const std::string dir = temp_dir("langid_round_trip");
  const tr::LanguageIdentifier learned = tr::learn_language_identifier(data_dir(), 3000);
  learned.save(dir + "/learned.json");
  const tr::LanguageIdentifier loaded = tr::LanguageIdentifier::load(dir + "/learned.json");
  CHECK(loaded.languages() == learned.languages());
  for (const char* language : {"de", "en"}) CHECK(loaded.sentences(language) == learned.sentences(language));
  CHECK(learned.sentences("de") > 100);
  int64_t unsure = 0;
  for (const std::string& text : texts_to_detect()) {
    CAPTURE(text);
    const std::vector<tr::LanguageIdentifier::Guess> before = learned.detect(text), after = loaded.detect(text);
    REQUIRE(before.size() == 2);
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < before.size(); ++i) {
      CHECK(after[i].language == before[i].language);
      CHECK(after[i].confidence == before[i].confidence);
    }
    unsure += before[0].confidence < 99;
  }
  CHECK(unsure >= 3);
  loaded.save(dir + "/loaded.json");
  CHECK(read_file(dir + "/loaded.json") == read_file(dir + "/learned.json"));
  CHECK_FALSE(fs::exists(dir + "/loaded.json.tmp"));
  // The comparisons tell identifiers apart: one learned from fewer lines saves another file and detects otherwise.
  const tr::LanguageIdentifier fewer = tr::learn_language_identifier(data_dir(), 20);
  CHECK(fewer.sentences("en") == 20);
  fewer.save(dir + "/fewer.json");
  CHECK(read_file(dir + "/fewer.json") != read_file(dir + "/learned.json"));
  int64_t differing = 0;
  for (const std::string& text : texts_to_detect())
    differing += fewer.detect(text).front().confidence != learned.detect(text).front().confidence;
  CHECK(differing > 0);
  // One that knows no language is no file any reader takes: refused, nothing written.
  CHECK_THROWS_AS(tr::LanguageIdentifier().save(dir + "/empty.json"), tg::Error);
  CHECK_FALSE(fs::exists(dir + "/empty.json"));
}

TEST_CASE("language identifier: a missing, truncated, foreign or other-version file is refused, naming the file") {
  const std::string dir = temp_dir("langid_bad");
  const std::string path = dir + "/language_id.json";
  tr::learn_language_identifier(data_dir(), 50).save(dir + "/good.json");
  const std::string good = read_file(dir + "/good.json");
  CHECK(load_error(path, good) == "(loaded)");
  const std::string refused = "'" + path + "' is not a language identifier file this build reads: ";
  const std::string whole =
      "the whole file: expected a JSON object {\"format\": \"tapegrad.language_identifier\", \"version\": 1, ...}, got ";
  const std::string head = R"({"format": "tapegrad.language_identifier", "version": 1, "languages": )";
  std::string newer = good;
  REQUIRE(newer.find("\"version\":1,") != std::string::npos);
  newer.replace(newer.find("\"version\":1,"), 12, "\"version\":2,");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", whole + "an empty file"},
      {good.substr(0, good.size() / 2), whole + std::to_string(good.size() / 2) + " bytes that end before the JSON does (truncated)"},
      {std::string("\x89PNG\r\n\x1a\n\0\0\xff", 11), whole + "text that is not JSON (parse error at line 1, column 1"},
      {"[1, 2]", whole + "a JSON array"},
      {R"({"format": "tapegrad.shortlist.v1", "version": 1, "languages": {}})",
       "\"format\": expected \"tapegrad.language_identifier\", got \"tapegrad.shortlist.v1\""},
      {newer, "\"version\": expected 1, got 2"},
      {R"({"format": "tapegrad.language_identifier", "languages": {}})",
       "the document: expected a field \"version\", got none"},
      {head + "{}}", "\"languages\": expected an object of at least one language, got {}"},
      {head + R"({"de": {"sentences": 1, "grams": [[], [], []]}}})",
       "languages.de.grams: expected 4 lists (n = 1 to 4), got [[],[],[]]"},
      {head + R"({"de": {"sentences": 1, "grams": [[[300, 1]], [], [], []]}}})",
       "languages.de.grams[0][0]: expected [gram, count]: a gram of 1 byte (0 to 255) above the one before, a count "
       "of at least 1, got [300,1]"},
      {head + R"({"de": {"sentences": 1, "grams": [[[66, 1], [65, 1]], [], [], []]}}})",
       "languages.de.grams[0][1]: expected [gram, count]: a gram of 1 byte (0 to 255) above the one before"},
      {head + R"({"de": {"sentences": 1, "grams": [[], [], [[65, 0]], []]}}})",
       "languages.de.grams[2][0]: expected an integer of at least 1, got 0"},
      {head + R"({"de": {"sentences": -1, "grams": [[], [], [], []]}}})",
       "languages.de.sentences: expected an integer of at least 0, got -1"},
      {head + R"({"de": {"grams": [[], [], [], []]}}})", "languages.de: expected a field \"sentences\", got none"},
  };
  for (const auto& one_case : cases) {  // not a structured binding: clang 14 cannot capture one in CAPTURE
    const std::string& text = one_case.first;
    const std::string& message = one_case.second;
    CAPTURE(text.substr(0, 100));
    const std::string error = load_error(path, text);
    CHECK_MESSAGE(error.find(refused + message) != std::string::npos, error);
  }
  try {
    tr::LanguageIdentifier::load(dir + "/none.json");
    FAIL("a missing file loaded");
  } catch (const tg::Error& e) {
    CHECK(std::string(e.what()) == "cannot read the language identifier '" + dir + "/none.json': No such file or directory");
  }
}

TEST_CASE("translate serve: the language identifier saved beside the model answers /detect with no corpus anywhere") {
  // translate train wrote it into the run folder; here a folder holding only the two, as on a machine without
  // Multi30k: --data-dir names an empty folder and $MULTI30K_DIR is unset.
  const std::string saved = tr::language_identifier_path(trained_checkpoint());
  REQUIRE(fs::exists(saved));
  const std::string dir = temp_dir("model_only");
  fs::copy_file(trained_checkpoint(), dir + "/model.safetensors");
  fs::copy_file(saved, dir + "/language_id.json");
  Server server({"--data-dir", temp_dir("no_corpus")}, {.checkpoint = dir + "/model.safetensors", .unset = {"MULTI30K_DIR"}});
  CHECK_MESSAGE(server.err().find("language identifier: " + dir + "/language_id.json (de, en)") != std::string::npos,
                server.err());
  const tr::LanguageIdentifier identifier = tr::LanguageIdentifier::load(saved);
  for (const std::string text : {"Zwei Hunde spielen im Schnee.", "Two dogs play in the snow.", "die", "Hallo!"}) {
    CAPTURE(text);
    const Answer answer = post(server, "/detect", json{{"q", text}}.dump());
    REQUIRE(answer.status == 200);
    const std::vector<tr::LanguageIdentifier::Guess> expected = identifier.detect(text);
    REQUIRE(answer.body.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      CHECK(answer.body[i]["language"] == expected[i].language);
      CHECK(answer.body[i]["confidence"].get<double>() == expected[i].confidence);
    }
  }
  CHECK(post(server, "/detect", R"({"q": "Zwei Hunde spielen im Schnee."})").body[0]["language"] == "de");
  CHECK(post(server, "/detect", R"({"q": "Two dogs play in the snow."})").body[0]["language"] == "en");
  const Answer automatic = post(server, "/translate", R"({"q": "a man is riding a bike .", "source": "auto", "target": "en"})");
  REQUIRE(automatic.status == 200);
  CHECK(automatic.body["detectedLanguage"]["language"] == "en");
  CHECK(automatic.body["translatedText"] == "a man is riding a bike .");
}

TEST_CASE("translate serve: with none saved it learns one from the corpus, else /detect says how to make one; a "
          "broken file stops it") {
  const std::string dir = temp_dir("model_without_identifier");
  const std::string checkpoint = dir + "/model.safetensors";
  fs::copy_file(trained_checkpoint(), checkpoint);
  const std::string no_corpus = temp_dir("empty_data_dir");
  {
    Server learned({"--data-dir", data_dir()}, {.checkpoint = checkpoint});
    CHECK_MESSAGE(learned.err().find("language identifier: learned from the training text in " + data_dir()) !=
                      std::string::npos,
                  learned.err());
    const Answer answer = post(learned, "/detect", R"({"q": "Zwei Hunde spielen im Schnee."})");
    REQUIRE(answer.status == 200);
    CHECK(answer.body[0]["language"] == "de");
  }
  {
    Server none({"--data-dir", no_corpus}, {.checkpoint = checkpoint, .unset = {"MULTI30K_DIR"}});
    CHECK(none.err().find("no language identifier (/detect answers 501") != std::string::npos);
    check_error(post(none, "/detect", R"({"q": "Zwei Hunde"})"), 501,
                "none was saved beside the model (language_id.json) and the server found no Multi30k training text "
                "to learn one from (--data-dir); `translate langid` makes one");
    const Answer automatic = post(none, "/translate", R"({"q": "ein hund", "source": "auto", "target": "en"})");
    REQUIRE(automatic.status == 200);
    CHECK(automatic.body["detectedLanguage"] == json{{"language", "de"}, {"confidence", 0.0}});
  }
  {  // --language-id names a file anywhere
    Server named({"--data-dir", no_corpus, "--language-id", tr::language_identifier_path(trained_checkpoint())},
                 {.checkpoint = checkpoint, .unset = {"MULTI30K_DIR"}});
    CHECK(post(named, "/detect", R"({"q": "Zwei Hunde"})").status == 200);
  }
  // A file beside the model that cannot be read is not passed over, nor one that lacks a language of the model:
  // the server stops at start, naming it.
  const std::string program = translate_program();
  REQUIRE(!program.empty());
  const auto refusal = [&](const std::string& flags) {
    const int status = std::system(("timeout 60 '" + program + "' serve --checkpoint '" + checkpoint +
                                    "' --port 0 --threads 1 " + flags + " > /dev/null 2> '" + dir + "/serve.err'").c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    return read_file(dir + "/serve.err");
  };
  tg::write_text_file(dir + "/language_id.json", R"({"format": "tapegrad.language_identifier", "version": 2})");
  const std::string broken = refusal("");
  CHECK_MESSAGE(broken.find("'" + dir + "/language_id.json' is not a language identifier file this build reads: "
                            "\"version\": expected 1, got 2; make it again with `translate langid --checkpoint " +
                            checkpoint + " --data-dir DIR --overwrite`, or remove it") != std::string::npos,
                broken);
  tr::LanguageIdentifier german_only;
  german_only.add("de", {"Zwei Hunde spielen im Schnee."});
  german_only.save(dir + "/german_only.json");
  const std::string lacking = refusal("--language-id '" + dir + "/german_only.json'");
  CHECK_MESSAGE(lacking.find("the language identifier '" + dir + "/german_only.json' knows de; this model translates "
                             "de to en, so it must know both") != std::string::npos,
                lacking);
}

TEST_CASE("html text: markup kept as it was, text decoded, script and style are markup, joined back escaped") {
  const std::string html = "<p class=\"a>b\">Ein &amp; zwei</p><!-- x < y --><script>if (a < b) {}</script>"
                           "a < b &lt; c &#228;&#xE4; &unknown;<br/>";
  const std::vector<tr::HtmlPiece> pieces = tr::split_html(html);
  std::vector<std::string> texts;
  for (const tr::HtmlPiece& p : pieces)
    if (p.is_text) texts.push_back(p.content);
  CHECK(texts == std::vector<std::string>{"Ein & zwei", "a < b < c \u00e4\u00e4 &unknown;"});
  CHECK(tr::join_html(pieces) == "<p class=\"a>b\">Ein &amp; zwei</p><!-- x < y --><script>if (a < b) {}</script>"
                                 "a &lt; b &lt; c \u00e4\u00e4 &amp;unknown;<br/>");
  CHECK(tr::split_html("").empty());
  CHECK(tr::join_html(tr::split_html("<b unclosed")) == "<b unclosed");
  // HTML's whole table of named references (it had decoded 6 of them: &uuml; came back as &amp;uuml;), the
  // longest name included; case matters, and a name HTML lacks stays as written.
  CHECK(tr::html_named_reference_count() == 2125);
  const std::vector<tr::HtmlPiece> named =
      tr::split_html("M&uuml;ller &hellip; &euro;5 &Uuml;&Auml; &NotNestedGreaterGreater; &CounterClockwiseContourIntegral; "
                     "&UUML; &ouml");
  REQUIRE(named.size() == 1);
  CHECK(named[0].content == "M\u00fcller \u2026 \u20ac5 \u00dc\u00c4 \u2aa2\u0338 \u2233 &UUML; &ouml");
}

namespace {

// Whether `ours` has the shape of `documented`: the same keys (recursively) with values of the same JSON
// kind (numbers of any kind alike), arrays judged by their first element.
bool same_shape(const json& ours, const json& documented, std::string& where) {
  auto kind = [](const json& j) { return j.is_number() ? std::string("number") : std::string(j.type_name()); };
  if (kind(ours) != kind(documented)) {
    where += ": " + kind(ours) + " where the documentation has " + kind(documented);
    return false;
  }
  if (documented.is_object()) {
    if (ours.size() != documented.size()) {
      where += ": keys " + ours.dump().substr(0, 200) + " against " + documented.dump();
      return false;
    }
    for (const auto& [key, value] : documented.items()) {
      std::string at = where + "." + key;
      if (!ours.contains(key) || !same_shape(ours[key], value, at)) {
        where = ours.contains(key) ? at : at + ": missing";
        return false;
      }
    }
  }
  if (documented.is_array() && !documented.empty() && !ours.empty()) {
    where += "[0]";
    return same_shape(ours[0], documented[0], where);
  }
  return true;
}

}  // namespace

TEST_CASE("translate serve: answers have the shape of LibreTranslate's documented examples, field by field") {
  // The examples of docs.libretranslate.com (guides/api_usage) and LibreTranslate's README; ours in German to
  // English, theirs in other languages: the shapes must match, not the words.
  Server server({"--beam", "3", "--data-dir", data_dir()});
  const std::vector<std::pair<Answer, json>> pairs = {
      {post(server, "/translate", R"({"q": "Hallo!", "source": "de", "target": "en"})"),
       json::parse(R"({"translatedText": "¡Hola!"})")},
      {post(server, "/translate", R"({"q": "Hallo!", "source": "auto", "target": "en"})"),
       json::parse(R"({"detectedLanguage": {"confidence": 90.0, "language": "fr"}, "translatedText": "Hello!"})")},
      {post(server, "/translate", R"({"q": "<p class=\"green\">Hallo!</p>", "source": "de", "target": "en", "format": "html"})"),
       json::parse(R"({"translatedText": "<p class=\"green\">¡Hola!</p>"})")},
      {post(server, "/translate", R"({"q": "Hallo!", "source": "de", "target": "en", "alternatives": 2})"),
       json::parse(R"({"alternatives": ["¡Qué tal!", "¡Hola!"], "translatedText": "¡Hola!"})")},
      {post(server, "/detect", R"({"q": "Hallo!"})"), json::parse(R"([{"confidence": 90.0, "language": "fr"}])")},
      {get(server, "/languages"), json::parse(R"([{"code": "en", "name": "English", "targets": ["it", "pt"]}])")},
      {post(server, "/translate", R"({"q": "Hallo!", "source": "xx", "target": "en"})"),
       json::parse(R"({"error": "xx is not supported"})")},
  };
  for (const auto& pair : pairs) {
    const Answer& ours = pair.first;  // named references: clang 14 cannot capture structured bindings
    const json& documented = pair.second;
    std::string where = "answer";
    CHECK_MESSAGE(same_shape(ours.body, documented, where), where << " in " << ours.body.dump().substr(0, 300));
  }
  // The HTML answer keeps the documented markup around the translated text.
  const std::string html = pairs[2].first.body["translatedText"];
  CHECK(html.rfind("<p class=\"green\">", 0) == 0);
  CHECK(html.substr(html.size() - 4) == "</p>");
}

// Whether this build runs under a sanitizer, whose allocator keeps freed memory on purpose (ASan's quarantine).
#if defined(__has_feature)
#define TG_TEST_SANITIZED (__has_feature(address_sanitizer) || __has_feature(thread_sanitizer))
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TG_TEST_SANITIZED 1
#else
#define TG_TEST_SANITIZED 0
#endif

TEST_CASE("translate serve: the memory a burst of large answers took goes back once it is idle") {
  if (TG_TEST_SANITIZED) {
    MESSAGE("skipped under a sanitizer: its allocator holds freed memory back on purpose");
    return;
  }
  // The synthetic corpus's model (a vocabulary of a dozen words) answers the burst in 9 MB over 20, within
  // the heap's own slack: what goes back cannot be told apart there.
  if (!test_support::have_multi30k()) return;
  Server server({"--max-batch", "64", "--max-sentences", "200", "--max-queue", "20000"});
  const std::vector<std::string> sentences = some_sentences(200);
  const std::string large = json{{"q", sentences}, {"source", "de"}, {"target", "en"}, {"alternatives", 4}, {"attention", true}}.dump();
  REQUIRE(post(server, "/translate", large).status == 200);  // the model's and the first answer's memory, before
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double before = server.memory_mb("VmRSS");
  std::vector<std::future<int>> burst;
  for (int client = 0; client < 16; ++client)
    burst.push_back(std::async(std::launch::async, [&] {
      int ok = 0;
      for (int i = 0; i < 4; ++i) ok += post(server, "/translate", large).status == 200;
      return ok;
    }));
  for (std::future<int>& b : burst) CHECK(b.get() == 4);
  const double peak = server.memory_mb("VmHWM");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // given back half a second after the last answer
  double after = server.memory_mb("VmRSS");
  for (int i = 0; i < 35 && after > 2 * before; ++i) {  // a loaded machine: up to 5 s in all
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = server.memory_mb("VmRSS");
  }
  MESSAGE("resident MB: before ", before, ", peak ", peak, ", after ", after);
  REQUIRE(peak > 1.5 * before);  // the burst did take memory (before idle release: 28 MB, peak 93, after 66)
  CHECK(after <= 2 * before);
}
