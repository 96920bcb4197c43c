#pragma once
// The audio library (tapegrad-audio): audio files and log-mel features.
#include "audio/audio_file.h"
#include "audio/features.h"
