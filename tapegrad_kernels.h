#pragma once
// For writing ops and backends, beyond the API of tapegrad.h: the
// tensor-level kernel calls ops are made of (tg::kernels), the fused kernel
// families and their table (kernels/, core/kernel_table.h), dtype dispatch,
// the Backend interface with its registry, and the two host backends
// (docs/custom_ops.md and tutorial chapter 6 show them in use).
#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "core/backend.h"
#include "core/backend_registry.h"
#include "core/dispatch.h"
#include "core/kernel_table.h"
#include "core/kernels.h"
#include "core/primitives.h"
#include "kernels/adam/adam.h"
#include "kernels/attention/additive_score.h"
#include "kernels/ctc/ctc_loss.h"
#include "kernels/dot_attention/dot_attention.h"
#include "kernels/dropout/dropout_mask.h"
#include "kernels/gru/gru.h"
#include "kernels/int8/int8_linear.h"
#include "kernels/nll/nll.h"
#include "kernels/norm/layer_norm.h"
#include "kernels/topk/topk_rows.h"
#include "tapegrad.h"
