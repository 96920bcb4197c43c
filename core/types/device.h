#pragma once
// Where a tensor's memory lives. Host memory is served by the `cpu` or the
// `reference` backend (chosen at run time); device memory by the backend of
// that device. Copies between devices are always explicit (Tensor::to).
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace tg {

enum class DeviceKind : uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceKind::cpu, 0}; }
  static constexpr Device cuda(int i = 0) { return {DeviceKind::cuda, i}; }
  bool is_host() const { return kind == DeviceKind::cpu; }
  bool is_cuda() const { return kind == DeviceKind::cuda; }
  friend bool operator==(const Device&, const Device&) = default;
  std::string str() const {
    return kind == DeviceKind::cpu ? std::string("cpu") : fmt::format("cuda:{}", index);
  }
};

// "cpu", "cuda" (= cuda:0) or "cuda:N", as programs take it in --device.
// Throws naming the accepted forms. Does not check that the device exists:
// the first tensor placed on it does (see core/dispatch/cuda.h).
Device parse_device(std::string_view text);

}  // namespace tg
