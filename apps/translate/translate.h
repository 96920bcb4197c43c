#pragma once
// Translation, the application's library in one include (namespace
// tg::translate): the models (Cho, Bahdanau, Transformer, ensembles), greedy
// and beam search, training on one or several ranks, checkpoints and their
// averaging, evaluation with BLEU, sentences in and out, and the service
// behind `translate serve` with its language identifier.
// examples/translate/main.cpp is its flags.
#include "apps/translate/average.h"
#include "apps/translate/rank_shares.h"
#include "apps/translate/evaluate.h"
#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/models/ensemble.h"
#include "apps/translate/models/seq2seq.h"
#include "apps/translate/models/transformer_model.h"
#include "apps/translate/search.h"
#include "apps/translate/serve/language_id.h"
#include "apps/translate/serve/serve.h"
#include "apps/translate/shortlist.h"
#include "apps/translate/step_profile.h"
#include "data/text/text_codec.h"
#include "apps/translate/train.h"
#include "apps/translate/translate_text.h"
#include "apps/translate/translation_checkpoint.h"
