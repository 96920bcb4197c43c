#pragma once
// Names a client must not be able to guess (a translated file's download id):
// bytes from the kernel's cryptographic generator (getrandom(2)), as hex. A
// seeded PRNG would not do: its outputs give its state away, and with it
// every name it makes next.
#include <cstddef>
#include <string>

namespace tg::serve {

// 2·bytes hex digits; throws std::runtime_error if the kernel gives no randomness.
std::string random_token(size_t bytes = 16);

}  // namespace tg::serve
