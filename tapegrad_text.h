#pragma once
// tapegrad-text: corpora (plain or .gz), the Moses tokenizer and detokenizer,
// vocabularies, bucketed batching and BLEU, in one include. A library of its
// own (pkg-config tapegrad-text) on top of the engine's core.
#include "data/text/text.h"
