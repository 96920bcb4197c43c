#pragma once
// Which dtypes each collective takes (mean needs a floating type).
#include <vector>

#include "core/types/dtype.h"
#include "distributed/all_reduce.h"

namespace tg::distributed::detail {
const std::vector<DType>& reducible_dtypes(ReduceOp op);
const std::vector<DType>& broadcastable_dtypes();
}  // namespace tg::distributed::detail
