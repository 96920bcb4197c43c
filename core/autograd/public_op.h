#pragma once
// The op a user called, while it records the ops it is made of (conv1d as
// slices and a matmul, layer_norm as means and products, a GRU layer as
// products and gate kernels). The nodes recorded meanwhile carry it, so an
// error in backward speaks of what the user wrote, with the input's name:
//
//   conv1d backward (its matmul): the saved value weight (6, 3, 1) float32 (leaf) was changed in place ...
//
//   Tensor conv1d(const Tensor& x, const Tensor& weight, ...) {
//     const PublicOpScope scope("conv1d", {{"x", x}, {"weight", weight}});
//
// Scopes nest; the outermost counts (a GRU's linear is the GRU's). Nothing
// is kept when no gradient is being recorded.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {

struct PublicOp {
  std::string op;
  std::vector<std::pair<std::string, const void*>> inputs;  // ("weight (6, 3, 1)", storage) of its named inputs

  // The name and shape of the input whose memory `storage` is (a view of it included), or "".
  std::string_view name_of(const void* storage) const;
};

class PublicOpScope {
 public:
  // Undefined inputs are skipped.
  PublicOpScope(std::string op, const std::vector<std::pair<std::string, Tensor>>& inputs);
  ~PublicOpScope();
  PublicOpScope(const PublicOpScope&) = delete;
  PublicOpScope& operator=(const PublicOpScope&) = delete;

 private:
  bool outermost_ = false;
};

// The outermost scope open on this thread, or null: what Tape::record gives each node.
const std::shared_ptr<const PublicOp>& current_public_op();

}  // namespace tg
