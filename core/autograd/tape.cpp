#include "core/autograd/tape.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "core/autograd/deferred_products.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"

namespace tg {

// A tensor's gradient slot (core/tensor/grad_slot.h) tells the tape when the
// tensor an op produced can no longer be reached.
GradSlot::~GradSlot() {
  if (tape != nullptr) tape->output_dropped(node);
}

namespace {
thread_local Tape* current_tape = nullptr;
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

Tape::~Tape() { clear(); }

std::shared_ptr<GradSlot> slot_of(const Tensor& t) { return t.requires_grad() ? t.impl().autograd : nullptr; }

namespace {
// Whether saved[i] is the first value of the list on its storage: mul(x, x)
// saves x twice, and that is one storage.
bool first_on_its_storage(const std::vector<Saved>& saved, size_t i) {
  for (size_t j = 0; j < i; ++j)
    if (saved[j].storage_id() == saved[i].storage_id()) return false;
  return true;
}
}  // namespace

size_t Node::saved_bytes() const {
  size_t bytes = 0;
  for (size_t i = 0; i < saved.size(); ++i)
    if (first_on_its_storage(saved, i)) bytes += saved[i].bytes();
  return bytes;
}

size_t Tape::count_saved(const Node& node, int direction) {
  size_t new_bytes = 0;
  for (size_t i = 0; i < node.saved.size(); ++i) {
    if (!first_on_its_storage(node.saved, i)) continue;
    const Saved& value = node.saved[i];
    if (direction > 0) {
      if (saved_storages_[value.storage_id()]++ > 0) continue;
      saved_bytes_ += value.bytes();
      if (!value.is_leaf()) new_bytes += value.bytes();
    } else {
      const auto it = saved_storages_.find(value.storage_id());
      if (it == saved_storages_.end() || --it->second > 0) continue;
      saved_storages_.erase(it);
      saved_bytes_ -= value.bytes();
    }
  }
  return new_bytes;
}

void Tape::record(const char* op, std::vector<std::shared_ptr<GradSlot>> inputs, Tensor& output,
                  std::vector<Saved> saved, BackwardFn backward) {
  TensorImpl& out = output.impl();
  if (out.autograd != nullptr && (out.autograd->requires_grad || out.autograd->node >= 0))
    fail("{}: the op's result already has a gradient slot (an input returned as the result?); "
         "return a new tensor or a view", op);
  if (nodes_.size() >= compact_at_) compact();
  const int64_t index = static_cast<int64_t>(nodes_.size());
  auto slot = std::make_shared<GradSlot>(out.shape, out.dtype, output.device());
  slot->requires_grad = true;
  slot->tape = this;
  slot->node = index;
  Node& node = nodes_.emplace_back();
  node.op = op;
  node.inputs = std::move(inputs);
  node.output = slot;
  node.saved = std::move(saved);
  std::erase_if(node.saved, [](const Saved& value) { return !value.defined(); });  // save_if gave nothing
  node.backward = std::move(backward);
  node.public_op = current_public_op();
  node.live = true;
  out.autograd = std::move(slot);
  ++live_;
  // The profiler's "saved": what this node newly makes the tape keep.
  profile_saved(op, count_saved(node, +1));
}

void Tape::release(Node& node) {
  if (!node.live) return;
  if (const std::shared_ptr<GradSlot> out = node.output.lock()) {
    out->tape = nullptr;
    out->node = -1;
    out->graph_freed = true;
    if (!out->retains_grad) out->grad.reset();
  }
  node.live = false;
  --live_;
  count_saved(node, -1);
  // Last: dropping the inputs' slots may drop earlier nodes' outputs, which
  // output_dropped queues while releasing_ is set.
  node.output.reset();
  node.saved.clear();
  node.backward = nullptr;
  node.inputs.clear();
}

void Tape::output_dropped(int64_t index) {
  dropped_.push_back(index);
  if (!releasing_) release_dropped();
}

void Tape::release_dropped() {
  releasing_ = true;
  // A chain of a thousand nodes is released in this loop, not in a thousand
  // nested destructor calls.
  while (!dropped_.empty()) {
    const int64_t i = dropped_.back();
    dropped_.pop_back();
    if (i >= 0 && i < static_cast<int64_t>(nodes_.size()) && nodes_[i].live && nodes_[i].output.expired())
      release(nodes_[i]);
  }
  releasing_ = false;
  trim();
}

std::vector<int64_t> Tape::reached_from(const std::vector<int64_t>& roots) {
  const uint64_t pass = ++pass_;
  std::vector<int64_t> reached, pending;
  for (const int64_t root : roots) {
    if (nodes_[root].visit == pass) continue;
    nodes_[root].visit = pass;
    reached.push_back(root);
    pending.push_back(root);
  }
  while (!pending.empty()) {
    const Node& node = nodes_[pending.back()];
    pending.pop_back();
    for (const std::shared_ptr<GradSlot>& in : node.inputs) {
      if (in->tape != this || in->node < 0 || !nodes_[in->node].live || nodes_[in->node].visit == pass) continue;
      nodes_[in->node].visit = pass;
      reached.push_back(in->node);
      pending.push_back(in->node);
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
  for (const Saved& value : node.saved) {
    if (!value.changed()) continue;
    if (node.public_op != nullptr) {  // part of an op the user called: name it, and the input by its name there
      const std::string message = value.changed_message(node.public_op->name_of(value.storage_id()));
      if (std::string_view(node.public_op->op) == node.op) fail("{} backward: {}", node.op, message);  // one node
      fail("{} backward (its {}): {}", node.public_op->op, node.op, message);
    }
    fail("{} backward: {}", node.op, value.changed_message());
  }
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
}  // namespace

bool detail::adopt_consumed(const Storage* storage) {
  if (storage == nullptr || storage != consumed_storage) return false;
  consumed_storage = nullptr;
  return true;
}

namespace {
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

namespace {
// Sets a flag for a scope and clears it however the scope ends.
struct FlagScope {
  explicit FlagScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~FlagScope() { flag_ = false; }
  FlagScope(const FlagScope&) = delete;
  FlagScope& operator=(const FlagScope&) = delete;
  bool& flag_;
};
}  // namespace

namespace {
// Forgets the products held for a backward that throws (its gradients are incomplete anyway), so that the next
// backward on this thread starts with none.
struct HeldProductsScope {
  HeldProductsScope() : exceptions_(std::uncaught_exceptions()) {}
  ~HeldProductsScope() {
    if (std::uncaught_exceptions() > exceptions_) deferred_products::drop_all_held();
  }
  HeldProductsScope(const HeldProductsScope&) = delete;
  HeldProductsScope& operator=(const HeldProductsScope&) = delete;
  int exceptions_;
};
}  // namespace

void Tape::backward(const Tensor& root, const Tensor& seed, BackwardOptions options) {
  backward(std::vector<Tensor>{root}, std::vector<Tensor>{seed}, options);
}

void Tape::backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, BackwardOptions options) {
  if (roots.size() != seeds.size())
    fail("backward: {} roots and {} seed gradients; give one seed per root (undefined for ones)", roots.size(),
         seeds.size());
  // Every root checked before any gradient is touched.
  std::vector<int64_t> root_nodes;
  std::vector<Tensor> grad_seeds;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    const GradSlot& root_slot = root.slot();
    if (root_slot.tape != this || root_slot.node < 0 || root_slot.node >= static_cast<int64_t>(nodes_.size()))
      fail("backward: the tensor was not recorded on this tape");
    Tensor grad_seed = seeds[i];
    if (!grad_seed.defined()) {
      if (root.numel() != 1)
        fail("backward: the root has shape {}; give a seed gradient of that shape or reduce it "
             "to one element first (e.g. sum or mean)", root.shape().str());
      grad_seed = compute::empty_like(root, root.shape());
      compute::fill(grad_seed, 1.0);
    } else if (grad_seed.shape() != root.shape()) {
      fail("backward: seed gradient of shape {} for a root of shape {}", grad_seed.shape().str(),
           root.shape().str());
    }
    root_nodes.push_back(root_slot.node);
    grad_seeds.push_back(std::move(grad_seed));
  }
  for (size_t i = 0; i < roots.size(); ++i) accumulate_grad(roots[i], std::move(grad_seeds[i]));

  const std::vector<int64_t> order = reached_from(root_nodes);
  // The reached nodes' output slots, held for the pass: releasing a node drops
  // its inputs' slots, and each must keep its gradient until its node's turn.
  std::vector<std::shared_ptr<GradSlot>> outputs;
  outputs.reserve(order.size());
  for (const int64_t i : order) outputs.push_back(nodes_[i].output.lock());
  {
    NoGrad no_grad;  // backward functions compute with raw kernels, nothing records
    const FlagScope releasing(releasing_);
    const HeldProductsScope held_products;
    for (size_t k = 0; k < order.size(); ++k) {
      Node& node = nodes_[order[k]];
      if (outputs[k] == nullptr) continue;  // cannot happen: the root is held, the others by their users
      GradSlot& out = *outputs[k];
      deferred_products::add_held(out);  // its gradient complete before its node reads it
      std::shared_ptr<TensorImpl> grad = out.grad;
      if (grad != nullptr && node.backward) {
        const ProfileScope profile(node.op, ProfilePhase::backward);
        const bool consumed = !options.retain_graph && !out.retains_grad;
        if (consumed) out.grad.reset();  // release() would drop it next
        const bool alone = grad.use_count() == 1 && grad->storage.use_count() == 1;
        const ConsumedScope consuming(consumed && alone ? grad->storage.get() : nullptr);
        run_backward(node, Tensor(std::move(grad)));
      }
      if (!options.retain_graph)
        release(node);
      else if (!out.retains_grad)
        out.grad.reset();  // a later backward starts from zero
    }
    deferred_products::add_all_held();  // the leaves' last ones
  }
  release_dropped();
}

void Tape::trim() {
  if (live_ == 0) {
    nodes_.clear();  // the usual end of a training step: the next starts afresh
    return;
  }
  while (!nodes_.empty() && !nodes_.back().live) nodes_.pop_back();
}

void Tape::compact() {
  size_t kept = 0;
  for (Node& node : nodes_) {
    if (!node.live) continue;
    if (const std::shared_ptr<GradSlot> out = node.output.lock()) out->node = static_cast<int64_t>(kept);
    if (&nodes_[kept] != &node) nodes_[kept] = std::move(node);
    ++kept;
  }
  nodes_.resize(kept);
  compact_at_ = std::max<size_t>(4096, 2 * kept);
}

void Tape::clear() {
  for (Node& node : nodes_) {
    if (!node.live) continue;
    if (const std::shared_ptr<GradSlot> out = node.output.lock()) {
      out->tape = nullptr;
      out->node = -1;
      out->graph_freed = true;
      out->graph_cleared = true;
    }
  }
  const FlagScope releasing(releasing_);
  nodes_.clear();
  live_ = 0;
  dropped_.clear();
  saved_storages_.clear();
  saved_bytes_ = 0;
}

std::string Tape::to_dot() const {
  std::string dot = "digraph tape {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  std::unordered_map<const GradSlot*, std::string> names;
  auto tensor_name = [&](const GradSlot& t) {
    auto [it, inserted] = names.try_emplace(&t, fmt::format("t{}", names.size()));
    if (inserted) {
      const char* kind = t.node < 0 ? "leaf" : "";
      dot += fmt::format("  {} [shape=ellipse, label=\"{} {}\"];\n", it->second, kind, t.shape.str());
    }
    return it->second;
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    const std::shared_ptr<GradSlot> output = node.output.lock();
    if (!node.live || output == nullptr) continue;
    // The box says what backward will read: "tanh\nsaved y (64, 256) float32\n64.0 KiB".
    std::string label = node.op;
    for (const Saved& value : node.saved) label += "\\nsaved " + value.describe();  // record() drops undefined ones
    if (!node.saved.empty()) label += fmt::format("\\n{}", format_bytes(node.saved_bytes()));
    dot += fmt::format("  op{} [shape=box, style=filled, fillcolor=lightblue, label=\"{}\"];\n", i, label);
    for (const std::shared_ptr<GradSlot>& input : node.inputs)
      dot += fmt::format("  {} -> op{};\n", tensor_name(*input), i);
    dot += fmt::format("  op{} -> {};\n", i, tensor_name(*output));
  }
  return dot + "}\n";
}


}  // namespace tg
