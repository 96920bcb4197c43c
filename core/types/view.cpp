#include "core/types/view.h"

namespace tg {

bool View::is_contiguous() const { return strides == contiguous_strides(shape) || numel() <= 1; }

}  // namespace tg
