#pragma once
// Corpora, tokenization, vocabularies, batching and BLEU, and where Multi30k
// is, in one include.
#include "data/batching.h"
#include "data/bleu.h"
#include "data/corpus.h"
#include "data/multi30k_dir.h"
#include "data/nonbreaking_prefixes.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "data/vocab.h"
