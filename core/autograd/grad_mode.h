#pragma once
// Whether ops record on the tape, per thread (core/autograd/tape.h records; saved
// values and ops ask here first).

namespace tg {

// Gradient recording for this thread. NoGrad turns it off in its scope
// (inference, evaluation, optimizer updates); EnableGrad turns it back on
// (a backward function that records a graph of its own: tg::recompute).
bool grad_enabled();
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};
class EnableGrad {
 public:
  EnableGrad();
  ~EnableGrad();
  EnableGrad(const EnableGrad&) = delete;
  EnableGrad& operator=(const EnableGrad&) = delete;

 private:
  bool previous_;
};

}  // namespace tg
