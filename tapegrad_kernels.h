#pragma once
// For writing ops and backends, beyond the API of tapegrad.h: the
// tensor-level kernel calls ops are made of (tg::kernels), dtype dispatch,
// the Backend interface with its registry, and the two host backends
// (docs/custom_ops.md and tutorial chapter 6 show them in use).
#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "core/backend.h"
#include "core/backend_registry.h"
#include "core/dispatch.h"
#include "core/kernels.h"
#include "tapegrad.h"
