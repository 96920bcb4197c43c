#pragma once
// Op profiler: while a tg::Profiler is alive (and not paused) on a thread,
// every op that thread runs is timed and its allocations counted, per op name:
//
//   tg::Profiler profiler;
//   ... forward, loss.backward(), ...
//   fmt::print("{}", profiler.format_table());
//
// What is measured:
// - forward: from the op's entry to its return, SELF time: an op built from
//   other ops (mean = sum, then a scale) is charged only what its children did
//   not take; the children get rows of their own. An op calling itself (a 3-D
//   matmul reshaping into a 2-D one) counts once.
// - backward: each node's backward function in Tape::backward, as
//   "<op> backward" in the op's row. Everything a backward function does,
//   any op it calls included, is charged to it.
// - bytes: Storage allocated (host and device) while an op's own code, not a
//   nested op's, runs. Views allocate nothing.
// - saved: the bytes the op's nodes made the tape keep for backward: each
//   saved storage counted once, by the first live node that saved it, and
//   leaves that require grad (parameters, kept by their module anyway) left
//   out. A step's column adds up to what its forward left for backward.
// - wall time: from construction to now (or to stop()), paused intervals left
//   out. Time outside ops (optimizer steps, data loading, freeing the tape)
//   is the difference.
//
// Cost without a profiler: one thread-local pointer test per op and per
// allocation. With one, two clock reads per op (tens of nanoseconds).
//
// On a GPU, kernels run asynchronously: an op's time is then the time to
// launch its kernels, unless something in it waits for the device.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tg {

enum class ProfilePhase { forward, backward };

struct ProfileRow {
  std::string op;
  int64_t forward_calls = 0;
  double forward_seconds = 0;  // self time
  int64_t backward_calls = 0;
  double backward_seconds = 0;  // self time of the op's backward functions
  size_t forward_bytes = 0;     // Storage allocated by the forward's own code
  size_t backward_bytes = 0;    // ... and by the backward functions
  size_t saved_bytes = 0;       // kept for backward by the nodes it recorded
  int64_t saved_calls = 0;      // nodes recorded
  double total_seconds() const { return forward_seconds + backward_seconds; }
  size_t total_bytes() const { return forward_bytes + backward_bytes; }
};

namespace detail {
struct ProfileState;
// The profile ops on this thread feed, or null. Constant-initialised, so an
// op reads it without a guard.
extern constinit thread_local ProfileState* active_profile;
// Opens a frame for `op`; returns null when none is opened (an op inside a
// backward function, or an op calling itself). `depth` receives the frame's
// place on the stack.
ProfileState* enter_op(const char* op, ProfilePhase phase, size_t& depth);
void exit_op(ProfileState* state, size_t depth);
void count_allocation(size_t nbytes);
void count_saved(const char* op, size_t nbytes);
}  // namespace detail

// Times the code from here to the end of the enclosing block as `op` (a
// string literal or another name that outlives the profiler). Ops open one
// first thing:  const ProfileScope profile("matmul");
class ProfileScope {
 public:
  explicit ProfileScope(const char* op, ProfilePhase phase = ProfilePhase::forward) {
    if (detail::active_profile != nullptr) [[unlikely]]
      state_ = detail::enter_op(op, phase, depth_);
  }
  ~ProfileScope() {
    if (state_ != nullptr) [[unlikely]]
      detail::exit_op(state_, depth_);
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  detail::ProfileState* state_ = nullptr;
  size_t depth_ = 0;
};

// Called by Storage for every allocation.
inline void profile_allocation(size_t nbytes) {
  if (detail::active_profile != nullptr) [[unlikely]]
    detail::count_allocation(nbytes);
}

// Called by the tape for every node it records.
inline void profile_saved(const char* op, size_t nbytes) {
  if (detail::active_profile != nullptr) [[unlikely]]
    detail::count_saved(op, nbytes);
}

// "0", "512 B", "64.0 KiB", "1.5 MiB", "2.00 GiB".
std::string format_bytes(size_t bytes);

// Profiles the ops of the thread that constructs it until stop() or
// destruction. A profiler started while another is active on the thread takes
// over until it stops, then hands back (like TapeScope).
class Profiler {
 public:
  Profiler();
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // pause() leaves out what follows (e.g. a validation pass between training
  // steps) until resume(); stop() ends profiling for good. The counts stay.
  void pause();
  void resume();
  void stop();
  bool active() const { return active_; }

  // One row per op name, by total (forward + backward) time, largest first.
  std::vector<ProfileRow> report() const;
  double wall_seconds() const;
  size_t bytes_outside_ops() const;  // allocated while no op ran (creation functions, the optimizer)

  // The report as a text table with totals and the share of the wall time the
  // ops account for; max_rows > 0 keeps only the first rows (the totals still
  // count all of them).
  std::string format_table(size_t max_rows = 0) const;

 private:
  std::unique_ptr<detail::ProfileState> state_;
  detail::ProfileState* previous_ = nullptr;  // the profile to hand back to
  bool active_ = false;
  bool stopped_ = false;
  int64_t started_ns_ = 0;   // when the running interval began
  int64_t elapsed_ns_ = 0;   // finished intervals
};

}  // namespace tg
