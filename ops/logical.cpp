#include "ops/logical.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/tensor/compute.h"

namespace tg {

namespace {
void check_bool(const Tensor& t, const char* op, const char* argument) {
  check_defined(t, op, argument);
  if (t.dtype() != DType::boolean)
    fail("{}: {} must be bool, got {} {} (make a mask with eq, lt, ... or ne(x, 0.0))", op, argument,
         dtype_name(t.dtype()), t.shape().str());
}
void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  check_bool(a, op, "a");
  check_bool(b, op, "b");
  if (a.device() != b.device()) fail("{}: a is on {} but b is on {}", op, a.device().str(), b.device().str());
}
Tensor constant(bool value, const Tensor& like) { return scalar(value ? 1 : 0, {DType::boolean, like.device()}); }
}  // namespace

// y = a ? false : true   (where on bools; no logical kernels are needed)
Tensor logical_not(const Tensor& a) {
  const ProfileScope profile("logical_not");
  check_bool(a, "logical_not", "a");
  return compute::where(a, constant(false, a), constant(true, a));
}

// y = a ? b : false
Tensor logical_and(const Tensor& a, const Tensor& b) {
  const ProfileScope profile("logical_and");
  check_pair(a, b, "logical_and");
  return compute::where(a, b, constant(false, a));
}

// y = a ? true : b
Tensor logical_or(const Tensor& a, const Tensor& b) {
  const ProfileScope profile("logical_or");
  check_pair(a, b, "logical_or");
  return compute::where(a, constant(true, a), b);
}

}  // namespace tg
