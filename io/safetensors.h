#pragma once
// Reading and writing named tensors in the safetensors format
// (https://huggingface.co/docs/safetensors):
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...,
//                    "__metadata__": {"key": "value", ...}}
//             padded with spaces to a multiple of 8
//   the rest  raw little-endian tensor data; offsets count from its start
//
// tapegrad reads and writes the dtypes F32, F64, I64, BOOL, F16, BF16 and I8. Reading is
// strict: every structural problem (bad JSON, unknown dtype, a size that does
// not match the shape, offsets out of range, overlapping, leaving gaps or
// trailing bytes) is a tg::Error naming the file and the problem, and nothing
// is read out of bounds. The writer adds a CRC-32 (io/crc32.h) of each
// tensor's bytes and of the other metadata to the metadata ("crc32:<name>",
// "crc32:__metadata__"); the reader checks them when a file has them (files
// of other writers have none) and removes them, so a flipped bit or an edited
// metadata line is an error naming the tensor instead of a changed model.
// Writing goes to "<path>.tmp", is flushed to disk,
// then renamed over <path>, so a failed or interrupted write never leaves a
// half-written file at <path>.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct SafetensorsContents {
  NamedTensors tensors;  // in file order (by data offset), host, contiguous
  std::map<std::string, std::string> metadata;
  // The tensor called `name`, or nullptr.
  const Tensor* find(const std::string& name) const;
};

// Writes `tensors` (packed in the given order) and string metadata to `path`.
// Names must be non-empty, distinct and not "__metadata__".
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads a file, each tensor's bytes straight into its storage: the peak is the model's size, not twice it.
SafetensorsContents load_safetensors(const std::string& path);

// Parses the bytes of a safetensors file; `source` names it in errors.
SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source);

// The header and data a writer produces, as bytes (what save_safetensors writes).
std::string serialize_safetensors(const NamedTensors& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

}  // namespace tg
