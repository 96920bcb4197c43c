#pragma once
// The host caching allocator behind every cpu tensor's Storage.
//
// A training step allocates and frees the same temporaries again and again,
// with shapes that change from batch to batch. Freed blocks are kept in free
// lists by size class (multiples of 64 bytes up to 4 KiB, then eight classes
// per power of two, so a block is at most 12.5% larger than asked), and the
// next request of the same class reuses one without touching the system.
// A request of 1 MiB or more whose class has none takes the smallest cached
// block up to four times its size (the whole block counts as in use), since
// fresh memory costs a page fault per page on first touch.
//
// The cache never holds more than the demand has shown it needs: on a miss,
// when what is handed out plus what is cached would pass the peak ever handed
// out (plus 1/32), the least recently freed blocks go back to the system first. So the
// memory the process holds stays near its peak in-use bytes, whatever the
// batch shapes. Blocks of 1 MiB and more are mapped and unmapped directly
// (mmap), so returning one returns its pages at once; from 2 MiB they are
// aligned to and advised as huge pages (a fresh block faults in 2 MiB at a
// time, not 4 KiB: that halved a Cho training step on a 2-core AMD EPYC).
// A miss of 2 MiB or more first moves whole huge pages of the least recently
// freed cached blocks into its new block (mremap: no fault, no zeroing), so
// memory the step already holds changes class instead of going back to the
// system while fresh pages are faulted in. Fresh pages are dear where the
// kernel hands freed memory back to a host (a Firecracker guest with free
// page reporting: a weight gradient's product into a fresh 6.3 MB block took
// 6.7-7.2 ms, into a cached one 1.8-2.0).
#include <cstddef>

namespace tg {

// Host memory, 64-byte aligned; `nbytes` 0 gives a valid one-class block.
void* host_allocate(size_t nbytes);
// Gives back a block from host_allocate with the same nbytes.
void host_deallocate(void* ptr, size_t nbytes);

struct HostMemoryStats {
  size_t in_use_bytes = 0;       // handed out and not yet returned (size-class bytes)
  size_t cached_bytes = 0;       // returned and kept for reuse
  size_t peak_in_use_bytes = 0;  // the most ever handed out at once
  size_t system_allocations = 0;  // blocks taken from the system (cache misses)
  size_t trimmed_bytes = 0;       // cached bytes given back to keep the cache within the peak
  size_t recycled_bytes = 0;      // cached pages moved into a missed block instead of fresh ones
};
HostMemoryStats host_memory_stats();
// Returns every cached block to the system.
void host_release_cached();

// The bytes a request of `nbytes` occupies: its size class.
size_t host_size_class(size_t nbytes);

}  // namespace tg
