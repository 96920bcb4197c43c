#include "core/autograd/saved.h"

#include <fmt/format.h>

#include "core/services/error.h"
#include "core/autograd/grad_mode.h"

namespace tg {

Saved::Saved(const char* name, const Tensor& value)
    : value_(value.detach()),
      version_(value.impl().storage->version()),
      name_(name),
      leaf_(value.requires_grad() && value.is_leaf()) {}

bool Saved::changed() const { return defined() && value_.impl().storage->version() != version_; }

std::string Saved::changed_message(std::string_view name) const {
  return fmt::format("the saved value {} was changed in place after the op saved it (its memory was written "
                     "{} time(s) since); change a copy (clone()) instead, or change it after backward",
                     describe(name), value_.impl().storage->version() - version_);
}

const Tensor& Saved::get() const {
  if (!defined()) fail("backward: reads a value that was not saved");
  if (changed()) fail("backward: {}", changed_message());
  return value_;
}

size_t Saved::bytes() const { return defined() ? value_.impl().storage->nbytes() : 0; }

const void* Saved::storage_id() const { return defined() ? value_.impl().storage.get() : nullptr; }

std::string Saved::describe(std::string_view name) const {
  if (!defined()) return fmt::format("{} (not saved)", name.empty() ? std::string_view(name_) : name);
  if (!name.empty()) return fmt::format("{} {}{}", name, dtype_name(value_.dtype()), leaf_ ? " (leaf)" : "");  // with its shape
  return fmt::format("{} {} {}{}", name_, value_.shape().str(), dtype_name(value_.dtype()), leaf_ ? " (leaf)" : "");
}

Saved save_if(bool needed, const char* name, const Tensor& value) {
  if (!needed || !grad_enabled()) return Saved();
  return Saved(name, value);
}

}  // namespace tg
