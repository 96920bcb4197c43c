#pragma once
// Stopping a training run cleanly: Ctrl-C (SIGINT) or SIGTERM (what a
// scheduler sends before it kills a job) sets a flag the training loop polls
// at each batch boundary, so the run finishes the batch, saves and says how to
// resume; a second signal exits at once (status 128 + signal).
//
//   tg::train::install_stop_signals();        // once, before training
//   if (tg::train::stop_flag().load()) ...    // polled by the loop (train/harness.h)
#include <atomic>

namespace tg::train {

// Installs the handler for SIGINT and SIGTERM (again is harmless).
void install_stop_signals();

// Set by the first signal; never cleared by the handler.
std::atomic<bool>& stop_flag();

// Clears the flag and the signal count (tests, or a program that trains twice).
void reset_stop_signals();

}  // namespace tg::train
