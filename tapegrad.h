#pragma once
// tapegrad: the API of the engine (tensors, the tape, ops, modules,
// optimizers, training checkpoints), in one include. Corpora, tokenizers and
// BLEU are the text library: tapegrad_text.h. The machinery for writing new
// ops and backends (tg::kernels, dtype dispatch, the Backend interface and
// its registry, the host backends) is tapegrad_kernels.h.
#include "core/creation.h"
#include "core/cuda.h"
#include "core/error.h"
#include "core/format.h"
#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/matmul_precision.h"
#include "core/tape.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "io/crc32.h"
#include "io/safetensors.h"
#include "io/text_file.h"
#include "ops/ops.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "train/train.h"
