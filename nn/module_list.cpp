#include "nn/module_list.h"

namespace tg::nn {

Module& ModuleList::operator[](size_t i) const {
  if (i >= items_.size()) fail("ModuleList: index {} is out of range for a list of {} modules", i, items_.size());
  return *items_[i];
}

}  // namespace tg::nn
