#pragma once
// tapegrad: everything a program needs, in one include.
#include "core/backend.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/format.h"
#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/kernels.h"
#include "core/tape.h"
#include "core/tensor.h"
#include "ops/ops.h"
