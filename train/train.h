#pragma once
// What trains: the training checkpoint (modules and optimizers in one file),
// the progress line and the run folder's claim, in one include.
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/run_directory.h"
