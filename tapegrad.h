#pragma once
// tapegrad: the engine (core, ops, nn, optim, train), in one include.
// Corpora, tokenizers and BLEU are the text library: tapegrad_text.h.
#include "core/backend.h"
#include "core/creation.h"
#include "core/cuda.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/format.h"
#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/kernels.h"
#include "core/safetensors.h"
#include "core/tape.h"
#include "core/tensor.h"
#include "ops/ops.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "train/train.h"
