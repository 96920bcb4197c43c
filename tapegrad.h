#pragma once
// tapegrad: the API of the engine (tensors, the tape, ops, modules,
// optimizers, training checkpoints), in one include. Corpora, tokenizers and
// BLEU are the text library: tapegrad_text.h. The machinery for writing new
// ops and backends (tg::kernels, dtype dispatch, the Backend interface and
// its registry, the host backends) is tapegrad_kernels.h.
#include "core/tensor/creation.h"
#include "core/dispatch/cuda.h"
#include "core/services/error.h"
#include "core/tensor/format.h"
#include "core/services/generator.h"
#include "core/autograd/gradcheck.h"
#include "core/dispatch/matmul_precision.h"
#include "core/autograd/tape.h"
#include "core/tensor/tensor.h"
#include "core/services/threads.h"
#include "io/crc32.h"
#include "io/safetensors.h"
#include "io/text_file.h"
#include "ops/ops.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "train/train.h"
