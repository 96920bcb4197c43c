#include "core/autograd/grad_mode.h"

namespace tg {

namespace {
thread_local bool recording = true;
}  // namespace

bool grad_enabled() { return recording; }
NoGrad::NoGrad() : previous_(recording) { recording = false; }
NoGrad::~NoGrad() { recording = previous_; }
EnableGrad::EnableGrad() : previous_(recording) { recording = true; }
EnableGrad::~EnableGrad() { recording = previous_; }

}  // namespace tg
