#pragma once
// The tape: every op on tensors that require grad appends a Node in execution
// order. backward(loss) seeds d loss = 1 and walks, latest first, the nodes
// that loss reaches through their inputs.
//
// What a node holds (and so what a graph keeps alive):
// - its inputs' gradient slots (core/tensor/grad_slot.h): where their gradients go,
//   not their data;
// - a link to its output's slot that does not own it;
// - the values its derivative reads, as an explicit list of Saved values
//   (core/autograd/saved.h): tanh saves y, mul the operands the other side needs, add
//   nothing. A saved output is kept as data without its slot, so no node keeps
//   its own result reachable.
//
// What stays recorded, and when it is freed:
// - backward releases the nodes it ran (their saved values go), unless
//   retain_graph; nodes it did not reach stay, so another loss recorded on the
//   same tape can still be back-propagated.
// - A graph nobody can reach any more is freed at once: when the last handle
//   to a node's output goes (and no later node uses it), the slot tells the
//   tape, which releases that node; releasing it drops its inputs' slots, and
//   so on back. A metric computed outside NoGrad and dropped costs nothing.
// - When no node is left the tape empties, keeping its capacity.
// - Backward functions run with recording off (inside NoGrad): they compute
//   with kernels, and nothing they do lands on the tape.
//
// Backward functions MUST ACCUMULATE into their inputs' gradients (+=), never
// overwrite: a tensor used twice receives the sum of both contributions.
//
// A Tape is an ordinary object: make one per model or thread and select it with
// TapeScope, or use the per-thread default tape. Nothing is global. Tensors
// recorded on a tape must be dropped on the thread that owns it.
#include <functional>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "core/services/profiler.h"  // ops open a ProfileScope beside their record()
#include "core/autograd/grad_buffers.h"
#include "core/autograd/grad_mode.h"
#include "core/autograd/public_op.h"
#include "core/autograd/saved.h"
#include "core/tensor/tensor.h"

namespace tg {

// Receives d loss / d output and accumulates into the inputs' gradients.
using BackwardFn = std::function<void(const Tensor& grad_output)>;

struct Node {
  const char* op = "";                             // op name, for to_dot and error messages
  std::vector<std::shared_ptr<GradSlot>> inputs;   // slots of the inputs that require grad
  std::weak_ptr<GradSlot> output;                  // the result's slot; expires when nobody can reach it
  std::vector<Saved> saved;                        // what the backward function reads
  std::shared_ptr<const PublicOp> public_op;       // the op the user called, when this one is part of it
  BackwardFn backward;
  bool live = false;                               // recorded and not yet released
  uint64_t visit = 0;                              // the backward pass that last reached it

  // Bytes of memory the saved values keep alive, each storage counted once.
  size_t saved_bytes() const;
};

class Tape {
 public:
  Tape() = default;
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Appends a node producing `output` from the inputs' slots, saving `saved`.
  // Gives output a slot that requires grad and points here. Called by record().
  void record(const char* op, std::vector<std::shared_ptr<GradSlot>> inputs, Tensor& output,
              std::vector<Saved> saved, BackwardFn backward);

  // Back-propagates from `root` seeded with `seed` (ones when undefined; then
  // root must hold one element) through the nodes `root` reaches, and only
  // those: the cost is that subgraph's, and other graphs recorded on the tape
  // stay usable. Without retain_graph the reached nodes are released.
  void backward(const Tensor& root, const Tensor& seed = {}, BackwardOptions options = {});
  // Several roots in one pass, each seeded with its own gradient (same shape
  // as its root): a node reached from two roots runs once, with the sum.
  void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, BackwardOptions options = {});

  // Drops every node and its saved values; keeps the node array's capacity so
  // a training loop does not reallocate it each step.
  void clear();
  // Slots in the node array, released ones included; live_nodes() counts
  // those still holding a graph.
  size_t size() const { return nodes_.size(); }
  size_t live_nodes() const { return live_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  // Bytes the live nodes' saved values keep alive (a storage saved by several
  // nodes counted once): the memory backward is waiting to read.
  size_t saved_bytes() const { return saved_bytes_; }

  // Graphviz source of the recorded graph: ops as boxes labelled with what
  // they saved and its size, tensors as ellipses labelled with shapes.
  std::string to_dot() const;

  // Called by a node's output slot as it goes: nobody can reach the node's
  // result any more, so it is released (and the nodes only it used, in turn).
  void output_dropped(int64_t node);

  // The tape ops record onto on this thread.
  static Tape& current();

 private:
  void release(Node& node);
  // Releases the nodes whose output slots went while releasing_ held them back.
  void release_dropped();
  // Indices of the live nodes the roots reach, highest (latest) first.
  std::vector<int64_t> reached_from(const std::vector<int64_t>& roots);
  // Closes the gaps released nodes leave when the array has grown past a
  // threshold, keeping the recording order.
  void compact();
  // Drops released nodes at the end, or all of them when none is live.
  void trim();

  std::vector<Node> nodes_;
  size_t live_ = 0;               // nodes not yet released
  uint64_t pass_ = 0;             // numbers backward passes, for Node::visit
  size_t compact_at_ = 4096;      // node count at which record() compacts
  bool releasing_ = false;        // a release is running: queue, don't recurse
  std::vector<int64_t> dropped_;  // nodes whose output went meanwhile
  // Each storage the live nodes saved, with how many of them saved it, and
  // the bytes of all of them: a storage saved by 30 steps counts once.
  std::unordered_map<const void*, size_t> saved_storages_;
  size_t saved_bytes_ = 0;
  // Counts `node`'s saved storages in (+1) or out (-1); returns the bytes of
  // those it is the first to save, leaves that require grad left out.
  size_t count_saved(const Node& node, int direction);
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


// The slot of `t` when it requires grad, else null: what a backward function
// holds of an input to route its gradient, without keeping its data.
std::shared_ptr<GradSlot> slot_of(const Tensor& t);

// Records `output = op(inputs)` on the current tape when any input requires
// grad and recording is on; otherwise does nothing (the lambda is dropped).
// `saved` lists the values the backward function captured (core/autograd/saved.h):
//   record("tanh", {&x}, y, {y_saved}, [dx = slot_of(x), y_saved](const Tensor& dy) { ... });
template <typename Fn>
void record(const char* op, std::initializer_list<const Tensor*> inputs, Tensor& output, std::vector<Saved> saved,
            Fn&& backward) {
  if (!grad_enabled()) return;
  std::vector<std::shared_ptr<GradSlot>> needing_grad;
  for (const Tensor* t : inputs)
    if (t->requires_grad()) needing_grad.push_back(t->impl().autograd);
  if (!needing_grad.empty())
    Tape::current().record(op, std::move(needing_grad), output, std::move(saved),
                           BackwardFn(std::forward<Fn>(backward)));
}
// The same for ops with a variable number of inputs (concat, stack).
template <typename Fn>
void record(const char* op, const std::vector<Tensor>& inputs, Tensor& output, std::vector<Saved> saved,
            Fn&& backward) {
  if (!grad_enabled()) return;
  std::vector<std::shared_ptr<GradSlot>> needing_grad;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) needing_grad.push_back(t.impl().autograd);
  if (!needing_grad.empty())
    Tape::current().record(op, std::move(needing_grad), output, std::move(saved),
                           BackwardFn(std::forward<Fn>(backward)));
}
// A backward function that saves nothing through Saved: one that captures
// tensors itself (a user's op: `[x]` keeps x's data and slot until backward)
// or reads none. Never capture the output tensor: that is a cycle (its slot
// keeps the node, the node keeps it); save it with save_if instead.
template <typename Fn>
void record(const char* op, std::initializer_list<const Tensor*> inputs, Tensor& output, Fn&& backward) {
  record(op, inputs, output, std::vector<Saved>{}, std::forward<Fn>(backward));
}
template <typename Fn>
void record(const char* op, const std::vector<Tensor>& inputs, Tensor& output, Fn&& backward) {
  record(op, inputs, output, std::vector<Saved>{}, std::forward<Fn>(backward));
}


namespace detail {
// Whether `storage` is that of the gradient the running backward function
// consumes, seen for the first time (accumulate_grad may then adopt it).
bool adopt_consumed(const Storage* storage);
}  // namespace detail

}  // namespace tg
