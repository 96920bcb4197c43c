#pragma once
// What trains: the training checkpoint (modules and optimizers in one file)
// and the progress line, in one include.
#include "train/checkpoint.h"
#include "train/progress.h"
