#include "core/tape.h"

#include <fmt/format.h>

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
  Node& node = nodes_.emplace_back();
  node.op = op;
  node.inputs = std::move(inputs);
  TensorImpl& out = output.impl();
  out.requires_grad = true;
  out.tape = this;
  out.node = static_cast<int64_t>(nodes_.size()) - 1;
  node.output = output;
  node.backward = std::move(backward);
}

void Tape::release(Node& node) {
  if (node.output.defined()) {
    TensorImpl& out = node.output.impl();
    out.tape = nullptr;
    out.node = -1;
    out.graph_freed = true;
    if (!out.retains_grad) out.grad.reset();
  }
  node.inputs.clear();
  node.output = Tensor();
  node.backward = nullptr;
}

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
  const int64_t last = root_impl.node;
  for (int64_t i = last; i >= 0; --i) {
    Node& node = nodes_[i];
    if (!node.output.defined()) continue;  // released earlier
    const std::shared_ptr<TensorImpl> grad = node.output.impl().grad;
    if (grad != nullptr && node.backward) node.backward(Tensor(grad));
    if (!options.retain_graph)
      release(node);
    else if (!node.output.impl().retains_grad)
      node.output.impl().grad.reset();  // a later backward starts from zero
  }
  // The common case: the loss was the last op; start the next step afresh.
  if (!options.retain_graph && last + 1 == static_cast<int64_t>(nodes_.size())) nodes_.clear();
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

void accumulate_grad(const Tensor& x, Tensor g) {
  TensorImpl& target = x.impl();
  if (target.graph_freed && !target.retains_grad)  // graph_freed implies node == -1
    fail("backward: a tensor on the path was produced by a graph already freed by an earlier "
         "backward (pass BackwardOptions{{.retain_graph = true}} to the first backward)");
  if (g.shape() != x.shape()) g = kernels::sum_to_shape(g, x.shape());
  if (g.dtype() != x.dtype())
    fail("backward: gradient dtype {} for a tensor of dtype {}", dtype_name(g.dtype()), dtype_name(x.dtype()));
  if (target.grad == nullptr) {
    // Adopt g when nobody else can see it; otherwise copy, so that a later
    // in-place accumulation cannot change someone else's tensor.
    const bool sole_owner = g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1 &&
                            g.is_contiguous() && g.shape() == x.shape();
    target.grad = sole_owner ? g.impl_ptr() : g.clone().impl_ptr();
    return;
  }
  kernels::add_into(Tensor(target.grad), g);
}

Tensor grad_buffer(const Tensor& x) {
  TensorImpl& target = x.impl();
  if (target.grad == nullptr) target.grad = kernels::zeros_like(x).impl_ptr();
  return Tensor(target.grad);
}

}  // namespace tg
