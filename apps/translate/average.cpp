#include "apps/translate/average.h"

#include <filesystem>

#include "tapegrad.h"
#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/translation_checkpoint.h"

namespace tg::translate {

namespace {

// "" when `b` is a checkpoint of the same model as `a`, else what differs.
std::string model_difference(const CheckpointInfo& a, const CheckpointInfo& b) {
  const ModelConfig &x = a.config, &y = b.config;
  if (x.kind != y.kind || x.cell != y.cell || x.embed != y.embed || x.hidden != y.hidden)
    return fmt::format("the model differs ({} {} embed {} hidden {} vs {} {} embed {} hidden {})", x.kind, x.cell,
                       x.embed, x.hidden, y.kind, y.cell, y.embed, y.hidden);
  if (x.layers != y.layers || x.heads != y.heads || x.norm_first != y.norm_first)
    return fmt::format("the transformer differs ({} layers, {} heads, {} vs {} layers, {} heads, {})", x.layers,
                       x.heads, x.norm_first ? "pre-norm" : "post-norm", y.layers, y.heads,
                       y.norm_first ? "pre-norm" : "post-norm");
  if (x.tie_embeddings != y.tie_embeddings)
    return fmt::format("the first {} its target embedding to the output layer (--tie-embeddings), this one {}",
                       x.tie_embeddings ? "ties" : "does not tie", y.tie_embeddings ? "does" : "does not");
  if (!same_vocabularies(a, b)) return "the vocabularies differ (tokens, or word against subword)";
  return {};
}

}  // namespace

void average_checkpoints(const std::vector<std::string>& paths, const std::string& out_path) {
  if (paths.empty()) fail("average: no checkpoints given");
  std::error_code ec;
  for (const std::string& path : paths)
    if (std::filesystem::exists(out_path, ec) && std::filesystem::equivalent(out_path, path, ec))
      fail("average: --out '{}' is one of the checkpoints being averaged; choose another --out", out_path);
  const CheckpointInfo first = read_checkpoint_info(paths[0]);
  std::unique_ptr<Seq2Seq> model = make_model(first.config, 0);
  const auto params = model->named_parameters();
  std::vector<Tensor> sums;  // float64 running sums, one per parameter
  for (const auto& [name, p] : params) sums.push_back(zeros(p.shape(), {DType::f64}));
  for (const std::string& path : paths) {
    const CheckpointInfo info = read_checkpoint_info(path);
    refuse_int8_checkpoint(info, path, "average");
    if (const std::string difference = model_difference(first, info); !difference.empty())
      fail("average: '{}' is not a checkpoint of the model of '{}': {}", path, paths[0], difference);
    const SafetensorsContents file = load_safetensors(path);
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor* t = file.find(params[i].first);
      if (t == nullptr) fail("average: '{}' has no parameter '{}'", path, params[i].first);
      if (t->shape() != params[i].second.shape())
        fail("average: '{}' holds '{}' of shape {}, the model of '{}' has {}: not the same model", path,
             params[i].first, t->shape().str(), paths[0], params[i].second.shape().str());
      sums[i] = sums[i] + t->to(DType::f64);
    }
  }
  for (size_t i = 0; i < params.size(); ++i)
    params[i].second.copy_((sums[i] / static_cast<double>(paths.size())).to(params[i].second.dtype()));
  save_model_checkpoint(out_path, *model, first);
}

}  // namespace tg::translate
