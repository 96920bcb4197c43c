#pragma once
// Corpora, tokenization, vocabularies, the translation pair's text codec,
// batching and BLEU, and where Multi30k is, in one include.
#include "data/text/batching.h"
#include "data/text/bleu.h"
#include "data/text/corpus.h"
#include "data/text/multi30k_dir.h"
#include "data/text/nonbreaking_prefixes.h"
#include "data/text/subword.h"
#include "data/text/text_codec.h"
#include "data/text/tokenizer.h"
#include "data/text/utf8.h"
#include "data/text/vocab.h"
