#include "core/grad_slot.h"

#include "core/tape.h"

namespace tg {

GradSlot::~GradSlot() {
  if (tape != nullptr) tape->output_dropped(node);
}

}  // namespace tg
