#pragma once
// The reference backend: a host backend with no kernel bodies of its own, so
// every kernel runs its reference body, the plain loops that define it
// (core/dispatch/primitives_reference.cpp, each family's <family>.cpp). It is slow on
// purpose: tests run the cpu backend against it, and a new backend can be
// checked against it the same way.
#include "core/dispatch/backend.h"

namespace tg {

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }
};

// The one reference backend, registered as "reference".
Backend& reference_backend();

}  // namespace tg
