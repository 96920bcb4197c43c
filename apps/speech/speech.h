#pragma once
// Speech recognition, the application's library in one include (namespace
// speech): the synthesized corpus and its batches, the CTC recogniser,
// greedy and prefix beam decoding with a character LM, training, evaluation
// per voice, the spectrogram picture and the service behind `speech serve`.
// examples/speech/main.cpp is its flags.
#include "apps/speech/audio_augment.h"
#include "apps/speech/char_lm.h"
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"
#include "apps/speech/speech_eval.h"
#include "apps/speech/speech_model.h"
#include "apps/speech/speech_page.h"
#include "apps/speech/speech_serve.h"
#include "apps/speech/speech_svg.h"
#include "apps/speech/speech_train.h"
