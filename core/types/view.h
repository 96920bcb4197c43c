#pragma once
// What a kernel sees of a tensor: a data pointer plus shape and strides in
// elements. A stride of 0 repeats an element (broadcasting). Plain data, so
// nvcc compiles it too.
#include <cstdint>

#include "core/types/dtype.h"
#include "core/types/shape.h"

namespace tg {

struct View {
  void* data = nullptr;  // first element, offset already applied
  DType dtype = DType::f32;
  Shape shape;
  Strides strides;  // in elements
  // A parameter's memory (Storage::reusable): its storage's id and version,
  // under which a kernel may keep what it derived from the data; 0: not kept.
  uint64_t storage_id = 0;
  uint64_t storage_version = 0;

  int64_t numel() const { return shape.numel(); }
  bool is_contiguous() const;
  template <typename T> T* as() const { return static_cast<T*>(data); }
};

// Element (i, j, ...) of v, through its strides: data[Σ_d index_d · strides_d].
template <typename T, typename... Index>
T& element(const View& v, Index... index) {
  int64_t offset = 0;
  int d = 0;
  ((offset += static_cast<int64_t>(index) * v.strides[d++]), ...);
  return v.as<T>()[offset];
}

}  // namespace tg
