#pragma once
// How many threads the host kernels and OpenBLAS use, as torch.set_num_threads
// (default: $TG_NUM_THREADS, else the cores this process may run on).
// Declared here so it is found by name; defined with the backends
// (core/dispatch/backend.cpp).
namespace tg {

void set_num_threads(int n);
int num_threads();

}  // namespace tg
