#pragma once
// Transcribing a split with a trained recogniser: greedy and (width > 1)
// prefix beam search, without and (fusion.lm) with the language model.
// Training's validation and `speech eval` both read it.
#include <cstdint>
#include <string>
#include <vector>

#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"
#include "apps/speech/speech_model.h"

namespace tg::speech {

struct Decoded {
  std::vector<std::string> greedy, beam, fused, references;  // one per utterance, in the split's order
};

Decoded decode_split(const Recognizer& model, const std::vector<Utterance>& data, int64_t width,
                     const LMFusion& fusion = {});

}  // namespace tg::speech
