#pragma once
// What the example programs share about their command lines:
//   - option checks whose messages read at a glance ("--epochs: must be at
//     least 1, got 0"), where CLI11's own print a double bound to 309 digits;
//   - a first argument that names no command is called unknown, by name;
//   - a note when more threads are asked for than the machine has cores
//     (each extra thread only waits for a core: 100× slower was seen).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <filesystem>
#include <thread>

#include "core/services/error.h"
#include "train/run_directory.h"

namespace cli_checks {

// A file the program will write, checked before any work (train/run_directory.h).
using tg::train::check_output_file;

// "512 bytes", "4.0 MB", "1.2 GB": a size for messages.
inline std::string format_bytes(double bytes) {
  if (bytes < 1e3) return fmt::format("{:.0f} bytes", bytes);
  if (bytes < 1e6) return fmt::format("{:.1f} kB", bytes / 1e3);
  if (bytes < 1e9) return fmt::format("{:.1f} MB", bytes / 1e6);
  return fmt::format("{:.1f} GB", bytes / 1e9);
}

// The number a validator was given, or nullopt-like NaN when it is not one.
inline double parsed_number(const std::string& input) {
  try {
    size_t used = 0;
    const double v = std::stod(input, &used);
    return used == input.size() ? v : std::nan("");
  } catch (const std::exception&) {
    return std::nan("");
  }
}

// value >= low (or > low when `strict`), and <= high when high is given.
inline CLI::Validator bounded(double low, bool strict, double high, const std::string& description) {
  return CLI::Validator(
      [=](std::string& input) -> std::string {
        const double v = parsed_number(input);
        if (std::isnan(v)) return fmt::format("expected a number, got '{}'", input);
        const bool too_low = strict ? !(v > low) : !(v >= low);
        if (too_low || v > high) return fmt::format("must be {}, got {}", description, input);
        return {};
      },
      description);
}

inline CLI::Validator positive() { return bounded(0, true, INFINITY, "positive"); }
inline CLI::Validator non_negative() { return bounded(0, false, INFINITY, "0 or more"); }
inline CLI::Validator between(double low, double high) {
  return bounded(low, false, high, fmt::format("between {} and {}", low, high));
}

// Cores this process may run on (its affinity mask, which a container or
// taskset narrows), else what the hardware reports.
inline int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

inline void note_if_more_threads_than_cores(int threads) {
  const int cores = available_cores();
  if (threads > cores)
    fmt::print(stderr,
               "warning: --threads {} is more than the {} core{} this process may use; the extra threads only wait "
               "for a core and every step slows down (use --threads {})\n",
               threads, cores, cores == 1 ? "" : "s", cores);
}

// "" when argv[1] is an option or one of the app's commands, else the error to print.
inline std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return {};
  std::string names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (command->get_name() == argv[1]) return {};
    names += (names.empty() ? "" : ", ") + command->get_name();
  }
  return fmt::format("unknown command '{}': expected one of {} (--help lists them)", argv[1], names);
}

}  // namespace cli_checks
