#pragma once
// Element types. float32 is the working type; float64 exists so gradient
// checks are exact enough; int64 holds indices (token ids, targets); boolean
// (one byte) holds masks. float16 and bfloat16 (core/types/half.h) store: they cast
// to and from every other type, print, save and load, fill, select (where,
// gather_rows) and feed matrix products (accumulated in float32); other
// kernels ask for float32 or float64. int8 stores too (quantized weights'
// codes, safetensors' I8): cast, print, save and load, fill and select;
// arithmetic asks for a cast first; in type promotion it is an integer
// narrower than int64, as PyTorch's.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/types/half.h"

namespace tg {

enum class DType : uint8_t { f32, f64, i64, boolean, f16, bf16, i8 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::boolean:
    case DType::i8: return 1;
    case DType::f16:
    case DType::bf16: return 2;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
    case DType::boolean: return "bool";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::i8: return "int8";
  }
  return "?";
}

// The types kernels compute in (float32, float64), and the 16-bit storage ones.
constexpr bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }
constexpr bool is_half(DType t) { return t == DType::f16 || t == DType::bf16; }
// Whole numbers: int64, int8 and bool.
constexpr bool is_integral(DType t) { return t == DType::i64 || t == DType::i8 || t == DType::boolean; }

// The default float type, as torch.get_default_dtype / set_default_dtype:
// float32 until set; what zeros({2}), tensor({0.5, 1.5}), arange(0.0, 1.0, 0.1)
// and an integer tensor divided give when no dtype is asked for. One for the
// process. set_default_dtype accepts float32 and float64 (else throws).
DType default_dtype();
void set_default_dtype(DType dtype);

// The C++ type behind a DType, and back.
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<bool>() { return DType::boolean; }
template <> constexpr DType dtype_of<float16>() { return DType::f16; }
template <> constexpr DType dtype_of<bfloat16>() { return DType::bf16; }
template <> constexpr DType dtype_of<int8_t>() { return DType::i8; }

}  // namespace tg
