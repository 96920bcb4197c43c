#pragma once
// tg::Error: the one exception type tapegrad throws for bad input.
// Messages name the op, what it got and what it needed:
//   matmul: (3, 4) @ (5, 6): inner dimensions 4 and 5 differ
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace tg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws tg::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tg
