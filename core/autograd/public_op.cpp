#include "core/autograd/public_op.h"

#include "core/autograd/grad_mode.h"
#include "core/tensor/storage.h"

namespace tg {

namespace {
std::shared_ptr<const PublicOp>& open_scope() {
  thread_local std::shared_ptr<const PublicOp> scope;
  return scope;
}
}  // namespace

std::string_view PublicOp::name_of(const void* storage) const {
  for (const auto& [name, s] : inputs)
    if (s == storage) return name;
  return {};
}

PublicOpScope::PublicOpScope(std::string op, const std::vector<std::pair<std::string, Tensor>>& inputs) {
  if (open_scope() != nullptr || !grad_enabled()) return;
  auto scope = std::make_shared<PublicOp>();
  scope->op = std::move(op);
  for (const auto& [name, t] : inputs)
    if (t.defined()) scope->inputs.emplace_back(name + " " + t.shape().str(), t.impl().storage.get());
  open_scope() = std::move(scope);
  outermost_ = true;
}

PublicOpScope::~PublicOpScope() {
  if (outermost_) open_scope().reset();
}

const std::shared_ptr<const PublicOp>& current_public_op() { return open_scope(); }

}  // namespace tg
