#pragma once
// Recomputing activations in backward (PyTorch's torch.utils.checkpoint):
// trade compute for memory. recompute(fn, inputs)
// runs fn without recording its insides and records ONE node that saves only
// fn's inputs; backward runs fn again on them, recording this time on a tape
// of its own, and back-propagates the outputs' gradients through that graph
// into the inputs. Everything fn's ops would have saved exists only during
// that node's backward.
//
//   // The encoder's activations are not kept between forward and backward:
//   const std::vector<Tensor> out = tg::recompute(
//       [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{encoder(in[0])}; }, {embedded});
//
// Gradients equal the plain run's bit for bit when fn computes the same values
// again: the same kernels on the same inputs do, and a random stream fn draws
// from (dropout) is given in `generators` so that the recomputation draws the
// same masks. The recomputed inputs share the originals' gradient slots, so
// fn's gradients land in the inputs' gradients in the plain run's order.
//
// fn's parameters (tensors it captures rather than receives) get their
// gradients too: the recomputation records on them like the first run would.
// Outputs must share one dtype and device; they come back as views of one
// buffer (the node's output).
#include <functional>
#include <vector>

#include "core/services/generator.h"
#include "core/tensor/tensor.h"

namespace tg {

using RecomputeFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct RecomputeOptions {
  // Random streams fn draws from: each is set back, for the recomputation, to
  // the state it had when the forward began, and left where the forward left it.
  std::vector<Generator*> generators;
};

std::vector<Tensor> recompute(const RecomputeFn& fn, const std::vector<Tensor>& inputs,
                               const RecomputeOptions& options = {});

}  // namespace tg
