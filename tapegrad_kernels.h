#pragma once
// For writing ops and backends, beyond the API of tapegrad.h: computing on
// tensors without the tape (tg::compute), the kernel registry
// (core/dispatch/kernel_table.h) with the primitives (tg::primitives) and the
// fused families (kernels/, tg::kernels), dtype dispatch, the Backend
// interface with its registry, and the two host backends (tutorial chapters
// 2 and 6 show them in use).
#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "core/dispatch/backend.h"
#include "core/dispatch/backend_registry.h"
#include "core/types/visit_dtype.h"
#include "core/dispatch/kernel_table.h"
#include "core/tensor/compute.h"
#include "core/dispatch/primitives.h"
#include "kernels/adam_update/adam_update.h"
#include "kernels/additive_score/additive_score.h"
#include "kernels/ctc_loss/ctc_loss.h"
#include "kernels/dot_attention/dot_attention.h"
#include "kernels/dropout_mask/dropout_mask.h"
#include "kernels/gru_gates/gru_gates.h"
#include "kernels/int8_linear/int8_linear.h"
#include "kernels/nll/nll.h"
#include "kernels/layer_norm/layer_norm.h"
#include "kernels/sum_squares/sum_squares.h"
#include "kernels/topk_rows/topk_rows.h"
#include "tapegrad.h"
