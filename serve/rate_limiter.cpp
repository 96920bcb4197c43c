#include "serve/rate_limiter.h"

namespace tg::serve {

int64_t RateLimiter::wait_seconds(const std::string& client, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  // Forget the minute past: the oldest arrival is its client's oldest request.
  while (!arrivals_.empty() && now - arrivals_.front().first >= std::chrono::minutes(1)) {
    const auto found = recent_.find(arrivals_.front().second);
    found->second.pop_front();
    if (found->second.empty()) recent_.erase(found);
    arrivals_.pop_front();
  }
  std::deque<Clock::time_point>& times = recent_[client];
  if (static_cast<int>(times.size()) >= per_minute_)
    return 1 + std::chrono::duration_cast<std::chrono::seconds>(times.front() + std::chrono::minutes(1) - now).count();
  times.push_back(now);
  arrivals_.emplace_back(now, client);
  return 0;
}

size_t RateLimiter::clients() const {
  const std::lock_guard lock(mutex_);
  return recent_.size();
}

}  // namespace tg::serve
