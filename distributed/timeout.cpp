// The collectives' time limit, shared by the MPI and single-process builds.
#include <cstdlib>
#include <string>

#include "distributed/distributed.h"

namespace tg::distributed {

namespace {

// 600 s unless TAPEGRAD_DIST_TIMEOUT says otherwise: long enough for rank 0
// to validate a large model at the end of an epoch while the others wait.
double& timeout_storage() {
  static double seconds = [] {
    const char* env = std::getenv("TAPEGRAD_DIST_TIMEOUT");
    if (env == nullptr || *env == '\0') return 600.0;
    try {
      const double s = std::stod(env);
      if (s > 0) return s;
    } catch (const std::exception&) {
    }
    fail("TAPEGRAD_DIST_TIMEOUT: expected a positive number of seconds, got '{}'", env);
  }();
  return seconds;
}

}  // namespace

double timeout_seconds() { return timeout_storage(); }

void set_timeout_seconds(double seconds) {
  if (!(seconds > 0)) fail("distributed::set_timeout_seconds: expected a positive number of seconds, got {}", seconds);
  timeout_storage() = seconds;
}

}  // namespace tg::distributed
