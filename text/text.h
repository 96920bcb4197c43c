#pragma once
// Corpora, tokenization, vocabularies, batching and BLEU, and where Multi30k
// is, in one include.
#include "text/batching.h"
#include "text/bleu.h"
#include "text/corpus.h"
#include "text/multi30k_dir.h"
#include "text/nonbreaking_prefixes.h"
#include "text/subword.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "text/vocab.h"
