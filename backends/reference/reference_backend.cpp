#include "backends/reference/reference_backend.h"

#include "core/dispatch/backend_registry.h"

namespace tg {

Backend& reference_backend() {
  static ReferenceBackend backend;
  return backend;
}

namespace {
const RegisterHostBackend registered("reference", 0, &reference_backend);
}  // namespace

}  // namespace tg
