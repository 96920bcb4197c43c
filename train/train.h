#pragma once
// What trains: the harness (the loop, the run folder, signals, the
// non-finite guard, the run's settings), the training checkpoint (modules and
// optimizers in one file), loss scaling for float16 and the progress line, in one include.
#include "train/training_checkpoint.h"
#include "train/finite.h"
#include "train/grad_scaler.h"
#include "train/harness.h"
#include "train/position.h"
#include "train/progress.h"
#include "train/run_directory.h"
#include "train/run_settings.h"
