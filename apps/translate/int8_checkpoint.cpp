#include "apps/translate/int8_checkpoint.h"

#include <set>
#include <string_view>
#include <utility>

#include "apps/translate/models/ensemble.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "nn/checkpoint.h"
#include "ops/int8_linear.h"

namespace tg::translate {

namespace {

bool on_int8_grid(const Tensor& parameter) { return parameter.ndim() == 2 && parameter.dtype() == DType::f32; }

}  // namespace

void decode_with_int8_weights(Translator& translator) {
  NoGrad no_grad;
  for (const auto& [name, parameter] : translator.model->named_parameters())
    if (on_int8_grid(parameter)) parameter.copy_(dequantize(quantize_to_grid(parameter), name));
  if (!translator.model->quantized_for_decoding()) translator.model->quantize_for_decoding();
}

void save_int8_checkpoint(const std::string& path, const Translator& translator) {
  if (translator.info.weights == "int8") fail("translate quantize: the model already has int8 weights");
  if (dynamic_cast<const Ensemble*>(translator.model.get()) != nullptr)
    fail("translate quantize: one checkpoint at a time, not an ensemble");
  std::set<std::string> quantized;
  for (const auto& [name, parameter] : translator.model->named_parameters())
    if (on_int8_grid(parameter)) quantized.insert(name);
  CheckpointInfo info = translator.info;
  info.weights = "int8";
  const SafetensorsContents contents = nn::checkpoint_contents(*translator.model, path, checkpoint_metadata(info));
  NamedTensors tensors;
  for (const auto& [name, t] : contents.tensors) {
    if (quantized.count(name) == 0) {
      tensors.emplace_back(name, t);
      continue;
    }
    if (contents.find(name + kInt8ScaleSuffix) != nullptr)
      fail("translate quantize: the model has a tensor '{}{}', the name an int8 scale takes", name, kInt8ScaleSuffix);
    Int8Grid grid = quantize_to_grid(t);
    tensors.emplace_back(name, std::move(grid.codes));
    tensors.emplace_back(name + kInt8ScaleSuffix, std::move(grid.scales));
  }
  save_safetensors(path, tensors, contents.metadata);
}

SafetensorsContents dequantized_contents(const SafetensorsContents& file, const std::string& path) {
  SafetensorsContents out;
  out.metadata = file.metadata;
  const std::string_view suffix = kInt8ScaleSuffix;
  for (const auto& [name, t] : file.tensors) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      const std::string codes = name.substr(0, name.size() - suffix.size());
      const Tensor* c = file.find(codes);
      if (c == nullptr || c->dtype() != DType::i8)
        fail("int8 checkpoint '{}': scales '{}' belong to no int8 tensor '{}'", path, name, codes);
      continue;
    }
    if (t.dtype() != DType::i8) {
      out.tensors.emplace_back(name, t);
      continue;
    }
    const Tensor* scales = file.find(name + kInt8ScaleSuffix);
    if (scales == nullptr) fail("int8 checkpoint '{}': int8 tensor '{}' has no scales '{}{}'", path, name, name, kInt8ScaleSuffix);
    out.tensors.emplace_back(name, dequantize({t, *scales}, fmt::format("int8 checkpoint '{}': '{}'", path, name)));
  }
  return out;
}

void refuse_int8_checkpoint(const CheckpointInfo& info, const std::string& path, const char* action) {
  if (info.weights == "int8")
    fail("cannot {} '{}': it holds int8 weights for decoding (written by translate quantize); use the float32 "
         "checkpoint it was made from",
         action, path);
}

}  // namespace tg::translate
