#include "core/tape.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/kernels.h"

namespace tg {

namespace {
thread_local Tape* current_tape = nullptr;
thread_local bool recording = true;
}  // namespace

Tape& Tape::current() {
  if (current_tape == nullptr) {
    thread_local Tape default_tape;
    return default_tape;
  }
  return *current_tape;
}

TapeScope::TapeScope(Tape& tape) : previous_(current_tape) { current_tape = &tape; }
TapeScope::~TapeScope() { current_tape = previous_; }

bool grad_enabled() { return recording; }
NoGrad::NoGrad() : previous_(recording) { recording = false; }
NoGrad::~NoGrad() { recording = previous_; }

Tape::~Tape() { clear(); }

void Tape::record(const char* op, std::vector<Tensor> inputs, Tensor& output, BackwardFn backward) {
  if (nodes_.size() >= collect_at_) collect_garbage();
  Node& node = nodes_.emplace_back();
  node.op = op;
  node.inputs = std::move(inputs);
  TensorImpl& out = output.impl();
  out.requires_grad = true;
  out.tape = this;
  out.node = static_cast<int64_t>(nodes_.size()) - 1;
  node.output = output;
  node.backward = std::move(backward);
  ++live_;
}

void Tape::release(Node& node) {
  if (!node.output.defined()) return;
  TensorImpl& out = node.output.impl();
  out.tape = nullptr;
  out.node = -1;
  out.graph_freed = true;
  if (!out.retains_grad) out.grad.reset();
  node.inputs.clear();
  node.output = Tensor();
  node.backward = nullptr;
  --live_;
}

std::vector<int64_t> Tape::reached_from(int64_t root) {
  const uint64_t pass = ++pass_;
  std::vector<int64_t> reached{root}, pending{root};
  nodes_[root].visit = pass;
  while (!pending.empty()) {
    const Node& node = nodes_[pending.back()];
    pending.pop_back();
    for (const Tensor& input : node.inputs) {
      const TensorImpl& in = input.impl();
      if (in.tape != this || in.node < 0 || nodes_[in.node].visit == pass) continue;
      nodes_[in.node].visit = pass;
      reached.push_back(in.node);
      pending.push_back(in.node);
    }
  }
  // A node's index is larger than its inputs' (recording order), so
  // descending order runs every node after all the nodes that use it.
  std::sort(reached.begin(), reached.end(), std::greater<>());
  return reached;
}

namespace {
// Runs a node's backward function; a tg::Error thrown inside it (a user's op
// included) leaves with the op's name in front: "<op> backward: <message>".
// A message that already names the op ("softsign: ...", from data<T>(op)) is
// kept; one that starts with a bare "backward: " (accumulate_grad) gets the
// op's name in front of that.
void run_backward(const Node& node, const Tensor& grad) {
  try {
    node.backward(grad);
  } catch (const Error& e) {
    const std::string_view message = e.what(), op = node.op;
    const bool names_op = !op.empty() && message.starts_with(op) && message.size() > op.size() &&
                          (message[op.size()] == ':' || message[op.size()] == ' ');
    if (names_op || op.empty()) throw;
    constexpr std::string_view bare = "backward: ";
    const std::string_view rest = message.starts_with(bare) ? message.substr(bare.size()) : message;
    throw Error(fmt::format("{} backward: {}", op, rest));
  }
}
}  // namespace

namespace {
// The storage of the gradient the running backward function consumes: its
// node's gradient, dropped right after, held by nothing else. The first
// accumulate_grad given a view of it (reshape's dx = dy seen in x's shape)
// adopts that view instead of copying it; later ones copy, so that no two
// gradients share memory.
thread_local const Storage* consumed_storage = nullptr;

bool adopt_consumed(const Storage* storage) {
  if (storage == nullptr || storage != consumed_storage) return false;
  consumed_storage = nullptr;
  return true;
}

// Sets consumed_storage for one backward function and clears it however that
// function ends (a throwing one must not leave a pointer that a later storage
// at the same address could match).
struct ConsumedScope {
  explicit ConsumedScope(const Storage* storage) { consumed_storage = storage; }
  ~ConsumedScope() { consumed_storage = nullptr; }
  ConsumedScope(const ConsumedScope&) = delete;
  ConsumedScope& operator=(const ConsumedScope&) = delete;
};
}  // namespace

void Tape::backward(const Tensor& root, const Tensor& seed, BackwardOptions options) {
  TensorImpl& root_impl = root.impl();
  if (root_impl.tape != this || root_impl.node < 0 || root_impl.node >= static_cast<int64_t>(nodes_.size()))
    fail("backward: the tensor was not recorded on this tape");
  Tensor grad_seed = seed;
  if (!grad_seed.defined()) {
    if (root.numel() != 1)
      fail("backward: the root has shape {}; give a seed gradient of that shape or reduce it "
           "to one element first (e.g. sum or mean)", root.shape().str());
    grad_seed = kernels::empty_like(root, root.shape());
    kernels::fill(grad_seed, 1.0);
  } else if (grad_seed.shape() != root.shape()) {
    fail("backward: seed gradient of shape {} for a root of shape {}", grad_seed.shape().str(),
         root.shape().str());
  }
  accumulate_grad(root, grad_seed);

  NoGrad no_grad;  // backward functions compute with raw kernels, nothing records
  for (const int64_t i : reached_from(root_impl.node)) {
    Node& node = nodes_[i];
    std::shared_ptr<TensorImpl> grad = node.output.impl().grad;
    if (grad != nullptr && node.backward) {
      const ProfileScope profile(node.op, ProfilePhase::backward);
      const bool consumed = !options.retain_graph && !node.output.impl().retains_grad;
      if (consumed) node.output.impl().grad.reset();  // release() would drop it next
      const bool alone = grad.use_count() == 1 && grad->storage.use_count() == 1;
      const ConsumedScope consuming(consumed && alone ? grad->storage.get() : nullptr);
      run_backward(node, Tensor(std::move(grad)));
    }
    if (!options.retain_graph)
      release(node);
    else if (!node.output.impl().retains_grad)
      node.output.impl().grad.reset();  // a later backward starts from zero
  }
  if (!options.retain_graph) trim();
}

void Tape::trim() {
  if (live_ == 0) {
    nodes_.clear();  // the usual end of a training step: the next starts afresh
    return;
  }
  while (!nodes_.empty() && !nodes_.back().output.defined()) nodes_.pop_back();
}

void Tape::collect_garbage() {
  // Latest first: releasing a node drops its hold on its inputs, which may
  // leave an earlier node unreachable in turn.
  for (int64_t i = static_cast<int64_t>(nodes_.size()) - 1; i >= 0; --i) {
    Node& node = nodes_[i];
    if (node.output.defined() && node.output.impl_ptr().use_count() == 1) release(node);
  }
  // Close the gaps, keeping the recording order, and renumber the outputs.
  size_t kept = 0;
  for (Node& node : nodes_) {
    if (!node.output.defined()) continue;
    node.output.impl().node = static_cast<int64_t>(kept);
    if (&nodes_[kept] != &node) nodes_[kept] = std::move(node);
    ++kept;
  }
  nodes_.resize(kept);
  collect_at_ = std::max<size_t>(4096, 2 * kept);
}

void Tape::clear() {
  for (Node& node : nodes_) {
    if (!node.output.defined()) continue;
    TensorImpl& out = node.output.impl();
    out.tape = nullptr;
    out.node = -1;
    out.graph_freed = true;
  }
  nodes_.clear();
  live_ = 0;
}

std::string Tape::to_dot() const {
  std::string dot = "digraph tape {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  std::unordered_map<const TensorImpl*, std::string> names;
  auto tensor_name = [&](const Tensor& t) {
    auto [it, inserted] = names.try_emplace(t.impl_ptr().get(), fmt::format("t{}", names.size()));
    if (inserted) {
      const char* kind = t.is_leaf() ? "leaf" : "";
      dot += fmt::format("  {} [shape=ellipse, label=\"{} {}\"];\n", it->second, kind, t.shape().str());
    }
    return it->second;
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if (!node.output.defined()) continue;
    dot += fmt::format("  op{} [shape=box, style=filled, fillcolor=lightblue, label=\"{}\"];\n", i, node.op);
    for (const Tensor& input : node.inputs) dot += fmt::format("  {} -> op{};\n", tensor_name(input), i);
    dot += fmt::format("  op{} -> {};\n", i, tensor_name(node.output));
  }
  return dot + "}\n";
}

namespace {
// A gradient arriving at a tensor whose node an earlier backward released
// could go no further: the user asked for a graph that is gone.
void check_graph_kept(const TensorImpl& target) {
  if (target.graph_freed && !target.retains_grad)  // graph_freed implies node == -1
    fail("backward: a tensor on the path was produced by a graph already freed by an earlier "
         "backward (pass {{.retain_graph = true}} to the first backward)");
}
}  // namespace

void accumulate_grad(const Tensor& x, Tensor g) {
  TensorImpl& target = x.impl();
  check_graph_kept(target);
  if (g.shape() != x.shape()) g = kernels::sum_to_shape(g, x.shape());
  if (g.dtype() != x.dtype())
    fail("backward: gradient dtype {} for a tensor of dtype {}", dtype_name(g.dtype()), dtype_name(x.dtype()));
  if (target.grad == nullptr) {
    // Adopt g when nobody else can see it; otherwise copy, so that a later
    // in-place accumulation cannot change someone else's tensor.
    const long storage_owners = g.impl().storage.use_count();
    const bool sole_owner = g.impl_ptr().use_count() == 1 && g.is_contiguous() && g.shape() == x.shape() &&
                            (storage_owners == 1 || (storage_owners == 2 && adopt_consumed(g.impl().storage.get())));
    target.grad = sole_owner ? g.impl_ptr() : g.clone().impl_ptr();
    return;
  }
  kernels::add_into(Tensor(target.grad), g);
}

Tensor grad_buffer(const Tensor& x) {
  TensorImpl& target = x.impl();
  check_graph_kept(target);
  if (target.grad == nullptr) target.grad = kernels::zeros_like(x).impl_ptr();
  return Tensor(target.grad);
}

}  // namespace tg
