// libFuzzer target: the safetensors parser on arbitrary bytes. Every input
// either parses or throws tg::Error; whatever parses writes back (in the
// writer's canonical form) and parses again to the same names, dtypes,
// shapes, bytes and metadata.
#include <cstring>

#include "core/services/error.h"
#include "io/safetensors.h"
#include "fuzz_support.h"

namespace {

bool same_tensor(const tg::Tensor& a, const tg::Tensor& b) {
  if (a.dtype() != b.dtype() || !(a.shape() == b.shape())) return false;
  const size_t n = static_cast<size_t>(a.numel()) * tg::dtype_size(a.dtype());
  return n == 0 || std::memcmp(a.view().data, b.view().data, n) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tg::SafetensorsContents parsed;
  try {
    parsed = tg::parse_safetensors(fuzz::bytes(data, size), "fuzz");
  } catch (const tg::Error&) {
    return 0;
  }
  std::string written;
  try {
    written = tg::serialize_safetensors(parsed.tensors, parsed.metadata);
  } catch (const tg::Error&) {
    // The writer refuses only names a reader accepts: "" (JSON allows an empty key).
    for (const auto& [name, t] : parsed.tensors)
      if (name.empty()) return 0;
    fuzz::broken("a parsed file could not be written back");
  }
  const tg::SafetensorsContents again = tg::parse_safetensors(written, "round trip");
  if (again.metadata != parsed.metadata) fuzz::broken("metadata changed in a round trip");
  if (again.tensors.size() != parsed.tensors.size()) fuzz::broken("tensor count changed in a round trip");
  for (const auto& [name, t] : parsed.tensors) {  // by name: empty tensors at one offset may swap places
    const tg::Tensor* back = again.find(name);
    if (back == nullptr) fuzz::broken("a tensor name changed in a round trip");
    if (!same_tensor(*back, t)) fuzz::broken("a tensor changed in a round trip");
  }
  return 0;
}
