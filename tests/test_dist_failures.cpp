// When one rank fails, all stop: tests/dist_worker.cpp, and `translate train`
// with another batch size on one rank, under mpirun (paths from
// tests/meson.build in MPIRUN, MPIRUN_ARGS, DIST_WORKER and TRANSLATE), each run
// bounded by timeout(1) (exit code 124), so a hang fails the test instead of
// blocking it.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>

#include "test_support.h"

namespace {

struct Run {
  std::string output;  // stdout and stderr of every rank and of mpirun
  int exit_code = -1;
  double seconds = 0;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  REQUIRE_MESSAGE(value != nullptr, name << " is not set (run this test through meson test)");
  return value;
}

// Runs `mpirun <MPIRUN_ARGS> <job>`; the whole job gets at most `limit` seconds.
Run run_mpi(const std::string& job, int limit, const std::string& extra_env = "") {
  const std::string command = extra_env + " timeout -k 10 " + std::to_string(limit) + " " + env("MPIRUN") + " " +
                              env("MPIRUN_ARGS") + " " + job + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  Run run;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> chunk{};
  while (fgets(chunk.data(), static_cast<int>(chunk.size()), pipe) != nullptr) run.output += chunk.data();
  const int status = pclose(pipe);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

// The worker on `ranks` ranks with `mode`.
Run run_worker(int ranks, const std::string& mode, int limit, const std::string& extra_env = "") {
  return run_mpi("-np " + std::to_string(ranks) + " " + env("DIST_WORKER") + " " + mode, limit, extra_env);
}

int count(const std::string& text, const std::string& part) {
  int n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a configuration that differs on one rank: every rank stops with the same clear message") {
  for (const int ranks : {2, 3}) {
    const Run run = run_worker(ranks, "mismatch", 60);
    INFO(run.output);
    CHECK(run.exit_code == 1);
    const std::string message = "ranks disagree on the training setup: rank " + std::to_string(ranks - 1) +
                                " has batch_size: 32, rank 0 has batch_size: 64";
    CHECK(count(run.output, message) == ranks);  // one line from each rank
    CHECK(count(run.output, "finished") == 0);
  }
}

TEST_CASE("a rank that throws ends every rank through MPI_Abort, with its message") {
  const Run run = run_worker(3, "throw", 60);
  INFO(run.output);
  CHECK(run.exit_code != 0);
  CHECK(run.exit_code != 124);  // not timeout(1)'s
  CHECK(count(run.output, "tapegrad rank 1 of 3: error: rank 1 failed on purpose at step 20; stopping every rank") == 1);
  CHECK(count(run.output, "finished") == 0);
  CHECK(run.seconds < 30);
}

TEST_CASE("a rank killed mid-run: mpirun ends the others within a bounded time") {
  const Run run = run_worker(2, "kill", 60);
  INFO(run.output);
  CHECK(run.exit_code != 0);
  CHECK(run.exit_code != 124);
  CHECK(count(run.output, "finished") == 0);
  CHECK(run.seconds < 30);
}

TEST_CASE("a rank that hangs: the others give up after TAPEGRAD_DIST_TIMEOUT and end the job") {
  const Run run = run_worker(2, "hang", 60, "TAPEGRAD_DIST_TIMEOUT=3");
  INFO(run.output);
  CHECK(run.exit_code != 0);
  CHECK(run.exit_code != 124);
  CHECK(count(run.output, "tapegrad rank 0 of 2: waited 3 s for all_reduce of 100000 elements in 7 buckets without "
                          "the other ranks") == 1);
  CHECK(count(run.output, "finished") == 0);
  CHECK(run.seconds < 30);
}

TEST_CASE("translate train with another --batch-size on one rank: both ranks stop, naming the setting") {
  if (!test_support::have_multi30k()) return;
  const std::string dir = std::filesystem::temp_directory_path() / "tapegrad_dist_mismatch";
  const std::string common = " train --model cho --embed 8 --hidden 8 --limit-train 200 --limit-val 20 --epochs 1 "
                             "--threads 1 --data-dir " + test_support::multi30k_dir() + " --checkpoint-dir " + dir;
  // MPMD: rank 0 runs the first command line, rank 1 the second.
  const Run run = run_mpi("-np 1 " + env("TRANSLATE") + common + " --batch-size 64 : -np 1 " + env("TRANSLATE") +
                              common + " --batch-size 32",
                          120);
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(count(run.output, "ranks disagree on the training setup: rank 1 has batch-size: 32, rank 0 has batch-size: 64; "
                          "every rank must run the same program with the same options and data") == 2);
  CHECK(count(run.output, "epoch 1:") == 0);  // no training happened
  std::filesystem::remove_all(dir);
}
