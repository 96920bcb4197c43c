#include "ops/recompute.h"

#include <memory>
#include <utility>

#include "core/services/error.h"
#include "core/autograd/grad_buffers.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/reshape.h"
#include "ops/slice.h"

namespace tg {

namespace {

// Output `shape` at `offset` of the flat buffer `flat`, as a plain view.
Tensor part_of(const Tensor& flat, const Shape& shape, int64_t offset) {
  return make_view(flat, shape, contiguous_strides(shape), flat.offset() + offset);
}

void check_outputs(const std::vector<Tensor>& outputs, const char* when) {
  if (outputs.empty()) fail("recompute: fn returned no tensor {}", when);
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined()) fail("recompute: fn's output {} is an undefined tensor {}", i, when);
    check_floating(outputs[i], "recompute");
    check_same_kind(outputs[0], outputs[i], "recompute (fn's outputs)");
  }
}

// What the node's backward needs: fn, its inputs as data, where their
// gradients go, the random streams' states, and the outputs' shapes.
struct Recompute {
  RecomputeFn fn;
  std::vector<Saved> inputs;
  std::vector<std::shared_ptr<GradSlot>> input_slots;  // null where an input needs no gradient
  std::vector<std::pair<Generator*, Generator>> streams;  // (stream, its state when the forward began)
  std::vector<Shape> shapes;                              // the outputs', in order
  std::vector<int64_t> offsets;                           // each output's place in the node's flat output

  void operator()(const Tensor& doutput) const {
    // The inputs again, as data with the originals' gradient slots: the
    // recomputed graph sends its gradients straight into the inputs'.
    std::vector<Tensor> again;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Tensor input = inputs[i].get().detach();
      input.impl().autograd = input_slots[i];
      again.push_back(std::move(input));
    }
    std::vector<Generator> now;
    for (const auto& [stream, at_forward] : streams) {
      now.push_back(*stream);
      *stream = at_forward;
    }
    Tape tape;
    std::vector<Tensor> outputs;
    {
      const TapeScope scope(tape);
      const EnableGrad record;
      outputs = fn(again);
    }
    for (size_t i = 0; i < streams.size(); ++i) *streams[i].first = now[i];
    check_outputs(outputs, "when run again in backward");
    if (outputs.size() != shapes.size())
      fail("recompute: fn returned {} outputs when run again in backward, {} the first time; it must compute "
           "the same thing from the same inputs", outputs.size(), shapes.size());
    const Tensor flat = shapes.size() == 1 ? doutput : contiguous_values(doutput);
    std::vector<Tensor> roots, seeds;
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (outputs[k].shape() != shapes[k])
        fail("recompute: fn's output {} has shape {} when run again in backward, {} the first time", k,
             outputs[k].shape().str(), shapes[k].str());
      if (!outputs[k].requires_grad()) continue;  // depends on nothing trainable
      const Tensor seed = shapes.size() == 1 ? flat : part_of(flat, shapes[k], offsets[k]);
      if (outputs[k].slot().tape != &tape) {  // an input (or a tensor from outside) returned as it is: fn computed
        accumulate_grad(outputs[k], seed);     // nothing on it, so its gradient is the output's
        continue;
      }
      roots.push_back(outputs[k]);
      seeds.push_back(seed);
    }
    if (!roots.empty()) tape.backward(roots, seeds);
  }
};

}  // namespace

std::vector<Tensor> recompute(const RecomputeFn& fn, const std::vector<Tensor>& inputs,
                               const RecomputeOptions& options) {
  const ProfileScope profile("recompute");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined()) fail("recompute: input {} is an undefined tensor", i);
  Recompute rerun{fn, {}, {}, {}, {}, {}};
  for (Generator* stream : options.generators) {
    if (stream == nullptr) fail("recompute: a generator in options.generators is null");
    rerun.streams.emplace_back(stream, *stream);
  }
  std::vector<Tensor> outputs;
  {
    NoGrad no_grad;  // nothing inside is recorded: its intermediates go as soon as fn is done with them
    outputs = fn(inputs);
  }
  check_outputs(outputs, "");
  if (!grad_enabled()) return outputs;

  // The node's output: the one output, or one flat buffer holding them all.
  Tensor flat;
  int64_t total = 0;
  for (const Tensor& out : outputs) {
    rerun.shapes.push_back(out.shape());
    rerun.offsets.push_back(total);
    total += out.numel();
  }
  if (outputs.size() == 1) {
    flat = outputs[0].detach();  // a handle of its own, without any slot fn's result had
  } else {
    flat = compute::empty_like(outputs[0], Shape{total});
    for (size_t k = 0; k < outputs.size(); ++k)
      compute::copy_into(outputs[k], part_of(flat, outputs[k].shape(), rerun.offsets[k]));
  }
  // Saves its inputs, and nothing fn computed. Recorded even when no input
  // requires grad: fn's own parameters may.
  std::vector<Saved> saved;
  std::vector<std::shared_ptr<GradSlot>> needing_grad;
  for (const Tensor& input : inputs) {
    saved.emplace_back("input", input);
    rerun.input_slots.push_back(slot_of(input));
    if (rerun.input_slots.back() != nullptr) needing_grad.push_back(rerun.input_slots.back());
  }
  rerun.inputs = saved;
  const std::vector<int64_t> offsets = rerun.offsets;  // rerun moves into the node
  Tape::current().record("recompute", std::move(needing_grad), flat, std::move(saved), std::move(rerun));
  if (outputs.size() == 1) return {flat};

  // Recorded views of the buffer (slice and reshape save nothing): their
  // gradients gather into the buffer's, which the node's backward splits.
  std::vector<Tensor> views;
  for (size_t k = 0; k < outputs.size(); ++k)
    views.push_back(reshape(slice(flat, 0, offsets[k], offsets[k] + outputs[k].numel()), outputs[k].shape()));
  return views;
}

}  // namespace tg
