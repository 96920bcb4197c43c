#include "core/services/profiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>

namespace tg {

namespace detail {

constinit thread_local ProfileState* active_profile = nullptr;

namespace {
constexpr int kPhases = 2;  // ProfilePhase::forward, ProfilePhase::backward

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int phase_index(ProfilePhase phase) { return phase == ProfilePhase::forward ? 0 : 1; }
}  // namespace

// One op name's counts; [0] forward, [1] backward.
struct OpCounts {
  const char* op;
  int64_t calls[kPhases] = {0, 0};
  int64_t self_ns[kPhases] = {0, 0};
  size_t bytes[kPhases] = {0, 0};
  size_t saved_bytes = 0;
  int64_t saved_calls = 0;
};

// An op running now: its time so far and the time its nested ops took.
struct Frame {
  size_t row;
  int phase;
  int64_t start_ns;
  int64_t child_ns = 0;
};

struct ProfileState {
  // Rows found by the name's address (the literal each op passes); rows with
  // equal names at different addresses are merged by report().
  std::unordered_map<const char*, size_t> row_of;
  std::vector<OpCounts> rows;
  std::vector<Frame> stack;
  size_t bytes_outside_ops = 0;

  size_t row_for(const char* op) {
    const auto [it, inserted] = row_of.try_emplace(op, rows.size());
    if (inserted) rows.push_back(OpCounts{op});
    return it->second;
  }
};

ProfileState* enter_op(const char* op, ProfilePhase phase, size_t& depth) {
  ProfileState* state = active_profile;
  const int p = phase_index(phase);
  if (!state->stack.empty()) {
    const Frame& top = state->stack.back();
    // An op inside a backward function is part of that backward's work.
    if (top.phase == 1 && p == 0) return nullptr;
    // An op calling itself (matmul → matmul) is one call.
    const char* top_op = state->rows[top.row].op;
    if (top.phase == p && (top_op == op || std::strcmp(top_op, op) == 0)) return nullptr;
  }
  const size_t row = state->row_for(op);
  depth = state->stack.size();
  state->stack.push_back(Frame{row, p, now_ns()});
  return state;
}

void exit_op(ProfileState* state, size_t depth) {
  // A profile paused or stopped while the op ran has dropped its frames.
  if (active_profile != state || state->stack.size() != depth + 1) return;
  const int64_t elapsed = now_ns() - state->stack.back().start_ns;
  const Frame frame = state->stack.back();
  state->stack.pop_back();
  OpCounts& counts = state->rows[frame.row];
  counts.calls[frame.phase] += 1;
  counts.self_ns[frame.phase] += elapsed - frame.child_ns;
  if (!state->stack.empty()) state->stack.back().child_ns += elapsed;
}

void count_allocation(size_t nbytes) {
  ProfileState* state = active_profile;
  if (state->stack.empty()) {
    state->bytes_outside_ops += nbytes;
    return;
  }
  const Frame& top = state->stack.back();
  state->rows[top.row].bytes[top.phase] += nbytes;
}

void count_saved(const char* op, size_t nbytes) {
  OpCounts& counts = active_profile->rows[active_profile->row_for(op)];
  counts.saved_bytes += nbytes;
  counts.saved_calls += 1;
}

}  // namespace detail

Profiler::Profiler() : state_(std::make_unique<detail::ProfileState>()) { resume(); }

Profiler::~Profiler() { stop(); }

void Profiler::pause() {
  if (!active_) return;
  elapsed_ns_ += detail::now_ns() - started_ns_;
  state_->stack.clear();  // ops still open are not counted
  if (detail::active_profile == state_.get()) detail::active_profile = previous_;
  active_ = false;
}

void Profiler::resume() {
  if (active_ || stopped_) return;
  previous_ = detail::active_profile;
  detail::active_profile = state_.get();
  started_ns_ = detail::now_ns();
  active_ = true;
}

void Profiler::stop() {
  pause();
  stopped_ = true;
}

double Profiler::wall_seconds() const {
  const int64_t ns = elapsed_ns_ + (active_ ? detail::now_ns() - started_ns_ : 0);
  return static_cast<double>(ns) * 1e-9;
}

size_t Profiler::bytes_outside_ops() const { return state_->bytes_outside_ops; }

std::vector<ProfileRow> Profiler::report() const {
  std::vector<ProfileRow> rows;
  std::unordered_map<std::string, size_t> row_of;
  for (const detail::OpCounts& c : state_->rows) {
    const auto [it, inserted] = row_of.try_emplace(c.op, rows.size());
    if (inserted) rows.push_back(ProfileRow{c.op});
    ProfileRow& row = rows[it->second];
    row.forward_calls += c.calls[0];
    row.backward_calls += c.calls[1];
    row.forward_seconds += static_cast<double>(c.self_ns[0]) * 1e-9;
    row.backward_seconds += static_cast<double>(c.self_ns[1]) * 1e-9;
    row.forward_bytes += c.bytes[0];
    row.backward_bytes += c.bytes[1];
    row.saved_bytes += c.saved_bytes;
    row.saved_calls += c.saved_calls;
  }
  std::sort(rows.begin(), rows.end(), [](const ProfileRow& a, const ProfileRow& b) {
    if (a.total_seconds() != b.total_seconds()) return a.total_seconds() > b.total_seconds();
    return a.op < b.op;
  });
  return rows;
}

std::string format_bytes(size_t bytes) {
  if (bytes == 0) return "0";
  const double b = static_cast<double>(bytes);
  if (b < 1024) return fmt::format("{} B", bytes);
  if (b < 1024.0 * 1024) return fmt::format("{:.1f} KiB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
}

namespace {

std::string format_share(double seconds, double wall) {
  return wall > 0 ? fmt::format("{:.1f}%", 100 * seconds / wall) : "-";
}

}  // namespace

std::string Profiler::format_table(size_t max_rows) const {
  const std::vector<ProfileRow> rows = report();
  const double wall = wall_seconds();
  ProfileRow all{"all ops"};
  for (const ProfileRow& r : rows) {
    all.forward_calls += r.forward_calls;
    all.backward_calls += r.backward_calls;
    all.forward_seconds += r.forward_seconds;
    all.backward_seconds += r.backward_seconds;
    all.forward_bytes += r.forward_bytes;
    all.backward_bytes += r.backward_bytes;
    all.saved_bytes += r.saved_bytes;
  }
  const size_t shown = max_rows > 0 ? std::min(max_rows, rows.size()) : rows.size();
  size_t name_width = std::string_view("outside ops").size();
  for (size_t i = 0; i < shown; ++i) name_width = std::max(name_width, rows[i].op.size());

  // op | fwd calls | fwd ms | bwd calls | bwd ms | total ms | % of wall | fwd alloc | bwd alloc | saved
  auto line = [&](std::string_view op, std::string fc, std::string fs, std::string bc, std::string bs,
                  std::string ts, std::string share, std::string fb, std::string bb, std::string saved) {
    return fmt::format("{:<{}}  {:>9}  {:>10}  {:>9}  {:>10}  {:>10}  {:>6}  {:>10}  {:>10}  {:>10}\n", op, name_width,
                       fc, fs, bc, bs, ts, share, fb, bb, saved);
  };
  auto ms = [](double seconds) { return fmt::format("{:.1f}", seconds * 1e3); };
  auto row_line = [&](const ProfileRow& r) {
    return line(r.op, std::to_string(r.forward_calls), ms(r.forward_seconds), std::to_string(r.backward_calls),
                ms(r.backward_seconds), ms(r.total_seconds()), format_share(r.total_seconds(), wall),
                format_bytes(r.forward_bytes), format_bytes(r.backward_bytes), format_bytes(r.saved_bytes));
  };

  std::string table = line("op", "fwd calls", "fwd ms", "bwd calls", "bwd ms", "total ms", "wall", "fwd alloc",
                           "bwd alloc", "saved");
  const std::string rule(table.size() - 1, '-');
  table += rule + "\n";
  for (size_t i = 0; i < shown; ++i) table += row_line(rows[i]);
  if (shown < rows.size()) table += fmt::format("({} more ops)\n", rows.size() - shown);
  table += rule + "\n";
  table += row_line(all);
  const double outside = std::max(0.0, wall - all.total_seconds());
  table += line("outside ops", "", "", "", "", ms(outside), format_share(outside, wall),
                format_bytes(bytes_outside_ops()), "", "");
  table += line("wall", "", "", "", "", ms(wall), format_share(wall, wall), "", "", "");
  return table;
}

}  // namespace tg
