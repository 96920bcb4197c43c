#pragma once
// The tape: every op on tensors that require grad appends a Node (its inputs,
// its output, the values it saved and its backward function) in execution
// order. backward(loss) seeds d loss = 1 and walks, latest first, the nodes
// that loss reaches through their inputs.
//
// What stays recorded, and when it is freed:
// - backward releases the nodes it ran (their saved values go), unless
//   retain_graph; nodes it did not reach stay, so another loss recorded on the
//   same tape can still be back-propagated.
// - A graph that no backward can reach any more (nobody but the tape holds its
//   output, e.g. a metric computed outside NoGrad and then dropped) is freed
//   the next time the tape grows past a threshold, in record().
// - When no node is left the tape empties, keeping its capacity.
// - Backward functions run with recording off (inside NoGrad): they compute
//   with kernels, and nothing they do lands on the tape.
//
// Backward functions MUST ACCUMULATE into their inputs' gradients (+=), never
// overwrite: a tensor used twice receives the sum of both contributions.
//
// A Tape is an ordinary object: make one per model or thread and select it with
// TapeScope, or use the per-thread default tape. Nothing is global.
#include <functional>
#include <string>
#include <vector>

#include "core/profiler.h"  // ops open a ProfileScope beside their record()
#include "core/tensor.h"

namespace tg {

// Receives d loss / d output and accumulates into the inputs' gradients.
using BackwardFn = std::function<void(const Tensor& grad_output)>;

struct Node {
  const char* op = "";          // op name, for to_dot and error messages
  std::vector<Tensor> inputs;   // those that require grad
  Tensor output;                // owns the gradient slot of the op's result; undefined once released
  BackwardFn backward;          // captures the values the op saved
  uint64_t visit = 0;           // the backward pass that last reached it
};

class Tape {
 public:
  Tape() = default;
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Appends a node producing `output` from `inputs` (only inputs that require
  // grad are kept). Marks output as requiring grad. Called by ops.
  void record(const char* op, std::vector<Tensor> inputs, Tensor& output, BackwardFn backward);

  // Back-propagates from `root` seeded with `seed` (ones when undefined; then
  // root must hold one element) through the nodes `root` reaches, and only
  // those: the cost is that subgraph's, and other graphs recorded on the tape
  // stay usable. Without retain_graph the reached nodes are released.
  void backward(const Tensor& root, const Tensor& seed = {}, BackwardOptions options = {});

  // Drops every node and its saved values; keeps the node array's capacity so
  // a training loop does not reallocate it each step.
  void clear();
  // Slots in the node array, released ones included; live_nodes() counts
  // those still holding a graph.
  size_t size() const { return nodes_.size(); }
  size_t live_nodes() const { return live_; }
  const std::vector<Node>& nodes() const { return nodes_; }

  // Graphviz source of the recorded graph: ops as boxes, tensors as ellipses
  // labelled with shapes.
  std::string to_dot() const;

  // The tape ops record onto on this thread.
  static Tape& current();

 private:
  void release(Node& node);
  // Indices of the live nodes `root` reaches, highest (latest) first.
  std::vector<int64_t> reached_from(int64_t root);
  // Releases nodes that no backward can reach any more (nobody but the tape
  // holds their output), then closes the gaps released nodes leave.
  void collect_garbage();
  // Drops released nodes at the end, or all of them when none is live.
  void trim();

  std::vector<Node> nodes_;
  size_t live_ = 0;            // nodes not yet released
  uint64_t pass_ = 0;          // numbers backward passes, for Node::visit
  size_t collect_at_ = 4096;   // node count at which record() collects garbage
};

// Records onto `tape` instead of the current one while in scope.
class TapeScope {
 public:
  explicit TapeScope(Tape& tape);
  ~TapeScope();
  TapeScope(const TapeScope&) = delete;
  TapeScope& operator=(const TapeScope&) = delete;

 private:
  Tape* previous_;
};

// Gradient recording for this thread. NoGrad turns it off in its scope
// (inference, evaluation, optimizer updates).
bool grad_enabled();
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// Records `output = op(inputs)` on the current tape when any input requires
// grad and recording is on; otherwise does nothing (the lambda is dropped).
template <typename Fn>
void record(const char* op, std::initializer_list<const Tensor*> inputs, Tensor& output,
            Fn&& backward) {
  if (!grad_enabled()) return;
  std::vector<Tensor> needing_grad;
  for (const Tensor* t : inputs)
    if (t->requires_grad()) needing_grad.push_back(*t);
  if (!needing_grad.empty())
    Tape::current().record(op, std::move(needing_grad), output, BackwardFn(std::forward<Fn>(backward)));
}
// The same for ops with a variable number of inputs (concat, stack).
template <typename Fn>
void record(const char* op, const std::vector<Tensor>& inputs, Tensor& output, Fn&& backward) {
  if (!grad_enabled()) return;
  std::vector<Tensor> needing_grad;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) needing_grad.push_back(t);
  if (!needing_grad.empty())
    Tape::current().record(op, std::move(needing_grad), output, BackwardFn(std::forward<Fn>(backward)));
}

// ---- used inside backward functions ----

// x.grad += g, where g may have x's shape or one x broadcasts to (it is then
// summed back to x's shape). Takes ownership of g when nobody else holds it.
void accumulate_grad(const Tensor& x, Tensor g);
// x's gradient buffer, created as zeros when missing; for kernels that
// accumulate in place (dx += ...).
Tensor grad_buffer(const Tensor& x);

}  // namespace tg
