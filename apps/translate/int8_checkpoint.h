#pragma once
// Decoding with int8 weights (--quantize int8) and int8 checkpoints
// (`translate quantize`).
//
// decode_with_int8_weights puts every weight matrix and embedding table of the
// model (its 2-D float32 parameters) on its per-row int8 grid
// (tg::quantize_to_grid: W' = codes · scale, a fixed point of quantizing),
// then runs the decoding products with int8 kernels
// (Seq2Seq::quantize_for_decoding). An int8 checkpoint holds that grid:
//
//   "<parameter>"             int8 codes (N, K), safetensors dtype I8
//   "<parameter>.int8_scale"  float32 scales (N)
//   other parameters, buffers float32, as in the float32 file
//   metadata                  the float32 file's, and "translate.weights" = "int8"
//
// Loading dequantizes the codes to the same float32 weights bit for bit, so the
// file decodes exactly as --quantize int8 on the checkpoint it came from, at
// about a quarter of its size. It decodes only, on the cpu (int8 products have
// no CUDA body): training from it and averaging it are refused.
#include <string>

#include "apps/translate/translation_checkpoint.h"
#include "io/safetensors.h"

namespace tg::translate {

inline constexpr const char* kInt8ScaleSuffix = ".int8_scale";

// --quantize int8. Doing it twice changes nothing (the grid is a fixed point).
void decode_with_int8_weights(Translator& translator);

// Writes the translator's model (one float32 checkpoint's, not an ensemble)
// as an int8 checkpoint at `path` (atomically, as every checkpoint).
void save_int8_checkpoint(const std::string& path, const Translator& translator);

// An int8 checkpoint's tensors with the codes dequantized (float32) and their
// scales removed; the metadata as it is. Errors name `path` and the tensor:
// codes without scales or scales without codes, a code of -128, a scale not
// finite and positive, scales of the wrong shape.
SafetensorsContents dequantized_contents(const SafetensorsContents& file, const std::string& path);

// Throws, naming `path` and what was asked (`action`, "resume training from"),
// when `info` is an int8 checkpoint's.
void refuse_int8_checkpoint(const CheckpointInfo& info, const std::string& path, const char* action);

}  // namespace tg::translate
