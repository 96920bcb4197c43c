#pragma once
// Requests per client in a sliding minute, for ServerOptions::rate_limit_per_minute.
// A client is whatever the caller names: the API key a request proved, or
// the address of one that proved none. Each counted request is remembered
// twice, in its client's list and in one list of all in arrival order; old
// requests leave from the front of the latter, so a request costs O(1)
// amortised however many clients there are (no scan of every client).
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace tg::serve {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}

  // Seconds until `client` may ask again (at least 1), or 0 when this request
  // is counted and may go on. `now` is for tests.
  int64_t wait_seconds(const std::string& client, Clock::time_point now = Clock::now());
  size_t clients() const;  // clients with a request in the last minute

 private:
  int per_minute_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> recent_;  // client -> its requests, oldest first
  std::deque<std::pair<Clock::time_point, std::string>> arrivals_;         // every counted request, oldest first
};

}  // namespace tg::serve
