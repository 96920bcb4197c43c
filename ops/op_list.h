#pragma once
// The declared op surface (after PyTorch's native_functions.yaml, without
// generating anything): one entry per public op — every free function of
// ops/ and core/tensor/creation.h, every op method on Tensor — saying which PyTorch
// op it follows, the forms a user can call, and how its gradient is made.
// Bodies stay hand-written; this list declares them, and:
//   tests/check_op_list.py    fails when a public function of ops/ or
//                             core/tensor/creation.h, or a method of Tensor, is not here;
//   tests/test_conformance.cpp fails when an entry with a PyTorch counterpart
//                             has no conformance case against PyTorch;
//   docs/ops.md               is printed from it (tests/op_list_doc, checked equal).
#include <cstdint>
#include <span>
#include <string_view>

namespace tg {

// The ways an op is called (a bit set).
enum OpForm : uint8_t {
  op_function = 1,   // tg::name(x, ...)
  op_method = 2,     // x.name(...)
  op_operator = 4,   // x + y, x[i], -x
};

// How its gradient comes about.
enum class OpBody : uint8_t {
  records,   // records its own node: forward and backward written side by side
  composes,  // made of other recorded ops (its gradient is theirs)
  kernel,    // records a node over a fused kernel family (kernels/<family>/)
  view,      // a recorded view: shares the input's memory
  none,      // no gradient: integer, boolean or random results, or outside the graph
};

struct OpEntry {
  std::string_view name;     // tg::name, or the method's name
  std::string_view group;    // "elementwise", "reduction", "shape", "indexing", "product", "layer", "loss",
                             // "creation", "tensor", "helper"
  std::string_view pytorch;  // the PyTorch op it follows ("torch.sum"), "" when none does
  uint8_t forms;             // OpForm bits
  OpBody body;
  std::string_view differs;  // how it differs from PyTorch's, "" when it does not (as far as tested)
};

// Every public op, in the order of docs/ops.md.
std::span<const OpEntry> op_list();
// Public members of Tensor that are not ops (accessors, autograd handles):
// listed so that the surface check accounts for every method.
std::span<const std::string_view> tensor_members_not_ops();

std::string_view op_body_name(OpBody body);

}  // namespace tg
