#pragma once
// What trains: the training checkpoint (modules and optimizers in one file),
// loss scaling for float16, the progress line and the run folder's claim, in one include.
#include "train/checkpoint.h"
#include "train/grad_scaler.h"
#include "train/progress.h"
#include "train/run_directory.h"
