#pragma once
// A tensor's autograd state, kept apart from its data: whether it needs a
// gradient, the gradient itself, and where on a tape the node that produced it
// sits. A node points at its inputs' slots, to route their gradients, without
// holding their memory; what backward reads it keeps as Saved values
// (core/autograd/saved.h). So the memory a graph holds is exactly what its nodes saved.
//
//   Tensor ──► TensorImpl ──► Storage (the data)
//                  └───────► GradSlot ◄── Node::inputs of the ops that used it
//                                 ▲
//                                 └ ─ ─ Node::output (not owning) of the op that made it
#include <cstdint>
#include <memory>

#include "core/types/device.h"
#include "core/types/dtype.h"
#include "core/types/shape.h"

namespace tg {

class Tape;
struct TensorImpl;

struct GradSlot {
  GradSlot(const Shape& shape, DType dtype, Device device) : shape(shape), dtype(dtype), device(device) {}
  // When the producing node's output slot goes (nobody can reach the result
  // any more), the tape releases that node: Tape::output_dropped.
  ~GradSlot();
  GradSlot(const GradSlot&) = delete;
  GradSlot& operator=(const GradSlot&) = delete;

  Shape shape;  // of the tensor, so a gradient can be shaped without its data
  DType dtype;
  Device device;
  bool requires_grad = false;
  bool retains_grad = false;
  bool graph_freed = false;   // its node was released by an earlier backward, or by graph_cleared
  bool graph_cleared = false;  // ... by the tape's clear() or its destruction, not by a backward
  std::shared_ptr<TensorImpl> grad;
  Tape* tape = nullptr;  // the tape holding the node that produced it
  int64_t node = -1;     // index of that node, -1 for leaves and constants
};

}  // namespace tg
