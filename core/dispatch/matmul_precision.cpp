#include "core/dispatch/matmul_precision.h"

#include <atomic>

#include "core/dispatch/backend.h"
#include "core/services/error.h"

namespace tg {

namespace {
std::atomic<MatmulPrecision> current{MatmulPrecision::fp32};
constexpr std::string_view kNames[] = {"fp32", "tf32", "bf16", "fp16"};
}  // namespace

std::string_view matmul_precision_name(MatmulPrecision p) { return kNames[static_cast<int>(p)]; }

MatmulPrecision parse_matmul_precision(std::string_view text, std::string_view what) {
  for (int i = 0; i < 4; ++i)
    if (text == kNames[i]) return static_cast<MatmulPrecision>(i);
  fail("{}: expected fp32, tf32, bf16 or fp16, got '{}'", what, text);
}

TrainingPrecision training_precision(MatmulPrecision asked, Device device) {
  const MatmulPrecision precision = backend_for(device).training_precision(asked);
  if (precision == asked) return {precision, ""};
  return {precision, fmt::format("precision {}: its products are not faster than {} on this {} (a bfloat16 "
                                 "instruction at half the float32 rate, or none), so they stay {}; "
                                 "TG_BF16_KERNEL=dpbf16, fma or amx forces bfloat16 products",
                                 matmul_precision_name(asked), matmul_precision_name(precision), device.str(),
                                 matmul_precision_name(precision))};
}

void set_matmul_precision(MatmulPrecision p) { current = p; }
MatmulPrecision matmul_precision() { return current; }

}  // namespace tg
