#include "nn/module.h"

#include <fmt/format.h>

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>
#include <unordered_set>

#include "core/services/error.h"
#include "core/services/generator.h"

namespace tg::nn {

namespace {
void check_name(const std::string& name, const char* what) {
  if (name.empty() || name.find('.') != std::string::npos)
    fail("Module: {} name '{}' must be non-empty and contain no '.'", what, name);
}

// Points `t`'s TensorImpl at `moved`'s memory (a copy of its data on another
// device or in another dtype), and its gradient slot at the new device and
// dtype. Shape, requires_grad and the handle itself stay.
void adopt_storage(const Tensor& t, const Tensor& moved) {
  TensorImpl& impl = t.impl();
  impl.storage = moved.impl().storage;
  impl.offset = moved.offset();
  impl.strides = moved.strides();
  impl.dtype = moved.dtype();
  if (impl.autograd) {
    impl.autograd->dtype = moved.dtype();
    impl.autograd->device = moved.device();
  }
}

// One parameter's (or gradient's) copy on the target device or in the target dtype, before the swap.
struct Move {
  Tensor tensor, moved;
};

// Copies of every tensor of `tensors` (gradients included) that `needs_copy`,
// made by `copy`, each handle once (tied parameters appear twice in named_parameters).
template <typename Needs, typename Copy>
std::vector<Move> copies_of(const std::vector<Tensor>& tensors, Needs needs_copy, Copy copy) {
  std::vector<Move> moves;
  auto add = [&](const Tensor& t) {
    if (!t.defined() || !needs_copy(t)) return;
    for (const Move& m : moves)
      if (m.tensor.is_same(t)) return;
    moves.push_back({t, copy(t.detach())});  // a parameter moves as a leaf, not through the tape
  };
  for (const Tensor& p : tensors) {
    add(p);
    add(p.grad());
  }
  return moves;
}
}  // namespace

// Parameters, buffers and children share one namespace, as in PyTorch.
void Module::check_unused(const std::string& name, const char* what) const {
  check_name(name, what);
  auto taken = [&](const auto& registered, const std::string& kind) {
    for (const auto& entry : registered)
      if (entry.first == name)
        fail("Module: {} '{}' is registered twice{}", what, name, kind == what ? "" : " (first as a " + kind + ")");
  };
  taken(parameters_, "parameter");
  taken(buffers_, "buffer");
  taken(children_, "child module");
}

Tensor& Module::register_parameter(std::string name, Tensor& parameter) {
  check_unused(name, "parameter");
  check_defined(parameter, "register_parameter", name.c_str());
  if (!parameter.requires_grad()) parameter.requires_grad_();
  parameters_.emplace_back(std::move(name), &parameter);
  return parameter;
}

Tensor& Module::register_buffer(std::string name, Tensor& buffer) {
  check_unused(name, "buffer");
  check_defined(buffer, "register_buffer", name.c_str());
  if (buffer.requires_grad())
    fail("Module: buffer '{}' requires grad; a trained tensor is a parameter (register_parameter), a buffer is not "
         "trained (detach() it)", name);
  buffers_.emplace_back(std::move(name), &buffer);
  return buffer;
}

void Module::add_child(std::string name, Module& child) {
  check_unused(name, "child module");
  children_.emplace_back(std::move(name), &child);
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, tensor] : parameters_) out.emplace_back(prefix + name, *tensor);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

namespace {
// Each tensor once, under the first name it was met by.
std::vector<std::pair<std::string, Tensor>> first_names(std::vector<std::pair<std::string, Tensor>> all) {
  std::vector<std::pair<std::string, Tensor>> out;
  std::unordered_set<const TensorImpl*> seen;
  for (auto& named : all)
    if (seen.insert(&named.second.impl()).second) out.push_back(std::move(named));
  return out;
}
}  // namespace

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect("", all);
  return first_names(std::move(all));
}

void Module::collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, tensor] : buffers_) out.emplace_back(prefix + name, *tensor);
  for (const auto& [name, child] : children_) child->collect_buffers(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect_buffers("", all);
  return first_names(std::move(all));
}

std::vector<std::pair<std::string, Tensor>> Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> all = named_parameters();
  for (auto& named : named_buffers()) all.push_back(std::move(named));
  return all;
}

std::vector<std::pair<std::string, Tensor>> Module::state_dict_all_names() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect("", all);
  collect_buffers("", all);
  return all;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters()) out.push_back(tensor);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t total = 0;
  for (const auto& [name, tensor] : named_parameters()) total += tensor.numel();
  return total;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, tensor] : named_parameters()) tensor.set_grad(Tensor());
}

std::vector<Tensor> Module::state_tensors() const {
  std::vector<Tensor> out;
  for (const auto& [name, t] : state_dict()) out.push_back(t);
  return out;
}

void Module::to(Device device) {
  // Copy everything first, then swap: a failed copy leaves the module as it was.
  const auto moves = copies_of(
      state_tensors(), [&](const Tensor& t) { return t.device() != device; },
      [&](const Tensor& t) { return t.to(device); });
  for (const Move& m : moves) adopt_storage(m.tensor, m.moved);
}

void Module::to(DType dtype) {
  if (!is_floating(dtype))
    fail("{}.to: parameters must be float32 or float64, got {}", type_name(), dtype_name(dtype));
  const auto moves = copies_of(
      state_tensors(), [&](const Tensor& t) { return is_floating(t.dtype()) && t.dtype() != dtype; },
      [&](const Tensor& t) { return t.to(dtype); });
  for (const Move& m : moves) adopt_storage(m.tensor, m.moved);
  tell_dtype(dtype);
}

void Module::tell_dtype(DType dtype) {
  dtype_changed(dtype);
  for (auto& [name, child] : children_) child->tell_dtype(dtype);
}

Device Module::device() const {
  const auto params = named_parameters();
  return params.empty() ? Device::cpu() : params.front().second.device();
}

void Module::reseed(uint64_t seed) {
  Generator mixer(seed);  // splitmix-seeded: distinct, well-spread child seeds
  reseed_own(mixer.next_u64());
  for (auto& [name, child] : children_) child->reseed(mixer.next_u64());
}

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  // "tg::nn::Foo" and a local class "f()::Foo" -> "Foo"; leave template arguments as they are.
  const size_t cut = name.rfind("::", name.find('<'));
  return cut == std::string::npos ? name : name.substr(cut + 2);
}

std::string Module::summary() const {
  const auto params = named_parameters();
  size_t width = 9;
  for (const auto& [name, tensor] : params) width = std::max(width, name.size());
  std::string out = fmt::format("{}\n{:<{}}  {:<16}  {:>12}\n", type_name(), "parameter", width, "shape", "count");
  for (const auto& [name, tensor] : params)
    out += fmt::format("{:<{}}  {:<16}  {:>12}\n", name, width, tensor.shape().str(), tensor.numel());
  out += fmt::format("{:<{}}  {:<16}  {:>12}\n", "total", width, "", parameter_count());
  return out;
}

}  // namespace tg::nn
