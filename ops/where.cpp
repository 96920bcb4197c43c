#include "ops/where.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/result_type.h"

namespace tg {

// y = cond ? a : b;  da += cond ? dy : 0,  db += cond ? 0 : dy   (summed to each shape)
Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  const ProfileScope profile("where");
  check_defined(cond, "where", "cond");
  check_defined(a, "where", "a");
  check_defined(b, "where", "b");
  if (cond.dtype() != DType::boolean)
    fail("where: cond must be bool, got {} {} (build masks with eq, lt, ...)", dtype_name(cond.dtype()),
         cond.shape().str());
  if (cond.device() != a.device())
    fail("where: cond is on {} but a is on {}", cond.device().str(), a.device().str());
  Tensor y = compute::where(cond, a, b);
  const Saved cond_saved = save_if(a.requires_grad() || b.requires_grad(), "cond", cond);
  record("where", {&a, &b}, y, {cond_saved}, [da = slot_of(a), db = slot_of(b), cond_saved](const Tensor& dy) {
    const Tensor zero = scalar(0, {dy.dtype(), dy.device()});
    if (da) accumulate_grad(*da, compute::where(cond_saved.get(), dy, zero));
    if (db) accumulate_grad(*db, compute::where(cond_saved.get(), zero, dy));
  });
  return y;
}

Tensor where(const Tensor& cond, const Tensor& a, Scalar b) { return where(cond, a, scalar_operand(a, b)); }
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) { return where(cond, scalar_operand(b, a), b); }

}  // namespace tg
