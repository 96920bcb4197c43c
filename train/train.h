#pragma once
// What sits above both modules and optimizers, in one include.
#include "train/checkpoint.h"
