#include "core/backend.h"

#include "core/backend_registry.h"
#include "core/device_module.h"
#include "core/error.h"

namespace tg {

bool View::is_contiguous() const { return strides == contiguous_strides(shape) || numel() <= 1; }

std::string_view unary_op_name(UnaryOp op) {
  constexpr std::string_view names[] = {"neg",  "exp",  "log", "sqrt",       "tanh",       "sigmoid",
                                        "relu", "abs", "erf", "pow_scalar", "mul_scalar", "add_scalar",
                                        "sin",  "cos"};
  return names[static_cast<int>(op)];
}

std::string_view binary_op_name(BinaryOp op) {
  constexpr std::string_view names[] = {"add", "sub", "mul", "div", "maximum", "minimum",
                                        "eq",  "ne",  "lt",  "le",  "gt",      "ge"};
  return names[static_cast<int>(op)];
}

// Defaults: memory hooks belong to non-host devices; kernels fall back to the
// default host backend.
void* Backend::allocate(size_t) { fail("backend {}: has no device memory of its own", name()); }
void Backend::deallocate(void*, size_t) { fail("backend {}: has no device memory", name()); }
void Backend::copy_to_host(const void*, void*, size_t) { fail("backend {}: host memory only", name()); }
void Backend::copy_from_host(const void*, void*, size_t) { fail("backend {}: host memory only", name()); }

Backend& Backend::fallback(std::string_view kernel) {
  if (has_device_memory()) fail("backend {}: kernel {} is not implemented", name(), kernel);
  return default_host_backend();
}

void Backend::fill(const View& out, double value) { fallback("fill").fill(out, value); }
void Backend::copy(const View& src, const View& out) { fallback("copy").copy(src, out); }
void Backend::unary(UnaryOp op, const View& x, const View& out, double s) {
  fallback("unary").unary(op, x, out, s);
}
void Backend::unary_backward(UnaryOp op, const View& x, const View& y, const View& dy,
                             const View& dx, double s) {
  fallback("unary_backward").unary_backward(op, x, y, dy, dx, s);
}
void Backend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  fallback("binary").binary(op, a, b, out);
}
void Backend::where(const View& cond, const View& a, const View& b, const View& out) {
  fallback("where").where(cond, a, b, out);
}
void Backend::reduce(ReduceOp op, const View& x, int axis, const View& out, const View* argmax) {
  fallback("reduce").reduce(op, x, axis, out, argmax);
}
void Backend::matmul(const View& a, const View& b, const View& c, double beta) {
  fallback("matmul").matmul(a, b, c, beta);
}
void Backend::gather_rows(const View& table, const View& index, const View& out) {
  fallback("gather_rows").gather_rows(table, index, out);
}
void Backend::scatter_add_rows(const View& src, const View& index, const View& table) {
  fallback("scatter_add_rows").scatter_add_rows(src, index, table);
}
void Backend::softmax(const View& x, const View& out, bool log) { fallback("softmax").softmax(x, out, log); }
void Backend::softmax_backward(const View& y, const View& dy, const View& dx, bool log) {
  fallback("softmax_backward").softmax_backward(y, dy, dx, log);
}
namespace {
thread_local Backend* selected_host_backend = nullptr;
}  // namespace

Backend& host_backend() {
  return selected_host_backend != nullptr ? *selected_host_backend : default_host_backend();
}

void set_host_backend(std::string_view name) { selected_host_backend = &host_backend_named(name); }

HostBackendScope::HostBackendScope(Backend& backend) : previous_(selected_host_backend) {
  selected_host_backend = &backend;
}
HostBackendScope::~HostBackendScope() { selected_host_backend = previous_; }

Backend& device_backend(Device device) {
  if (device.is_host()) return host_backend();
  std::string why;
  DeviceModule* module = find_device_module(device.kind, &why);
  if (module == nullptr) fail("device {}: {}", device.str(), why);
  return module->backend(device.index);
}

Backend& backend_for(Device device) {
  return device.is_host() ? host_backend() : device_backend(device);
}

void set_num_threads(int n) {
  if (n < 1) fail("set_num_threads: need at least 1 thread, got {}", n);
  for (const std::string& name : host_backend_names()) host_backend_named(name).set_num_threads(n);
}

int num_threads() { return default_host_backend().num_threads(); }

}  // namespace tg
