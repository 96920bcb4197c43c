#pragma once
// Every module, in one include.
#include "nn/additive_attention.h"
#include "nn/attention.h"
#include "nn/checkpoint.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/gru_cell.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/luong_attention.h"
#include "nn/module.h"
