#pragma once
// The audio library (tapegrad-audio): audio files, resampling, augmentation and log-mel features.
#include "data/audio/audio_file.h"
#include "data/audio/augment.h"
#include "data/audio/features.h"
#include "data/audio/resample.h"
