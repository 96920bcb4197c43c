#include "nn/checkpoint.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg::nn {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string key_list(const std::vector<std::string>& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", keys[i]);
  return out;
}

// "holds 3 non-finite values (nan at element 17 first)", or "" when all are finite.
template <typename T>
std::string non_finite_values(const Tensor& host) {
  const T* values = host.data<T>();
  const int64_t n = host.numel();
  int64_t count = 0, first = -1;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(values[i]) && count++ == 0) first = i;
  if (count == 0) return {};
  return fmt::format("holds {} non-finite value{} of {} ({} at element {} first)", count, count == 1 ? "" : "s", n,
                     std::isnan(values[first]) ? "nan" : values[first] > 0 ? "inf" : "-inf", first);
}

std::string non_finite_values(const Tensor& t) {
  if (t.dtype() != DType::f32 && t.dtype() != DType::f64) return {};
  const Tensor host = t.device().is_host() && t.is_contiguous() ? t : t.detach().to(Device::cpu()).contiguous();
  return t.dtype() == DType::f32 ? non_finite_values<float>(host) : non_finite_values<double>(host);
}

// Matches the file's module tensors against the module; throws listing every
// problem; returns (parameter, file tensor) pairs to copy.
std::vector<std::pair<Tensor, Tensor>> match_parameters(const Module& module, const SafetensorsContents& file,
                                                        bool skip_optimizer, const std::string& path,
                                                        LoadOptions options) {
  const auto params = module.state_dict();  // parameters and buffers
  std::vector<std::string> missing, unexpected, mismatches;
  std::vector<std::pair<Tensor, Tensor>> copies;
  for (const auto& [name, p] : params) {
    const Tensor* t = file.find(name);
    if (t == nullptr) {
      missing.push_back(name);
    } else if (t->shape() != p.shape()) {
      mismatches.push_back(fmt::format("shape mismatch: {} is {} in the file, {} in the model", name,
                                       t->shape().str(), p.shape().str()));
    } else if (t->dtype() != p.dtype()) {
      mismatches.push_back(fmt::format("dtype mismatch: {} is {} in the file, {} in the model", name,
                                       dtype_name(t->dtype()), dtype_name(p.dtype())));
    } else if (const std::string bad = options.allow_non_finite ? "" : non_finite_values(*t); !bad.empty()) {
      mismatches.push_back(fmt::format("{} {}", name, bad));
    } else {
      copies.emplace_back(p, *t);
    }
  }
  for (const auto& [name, t] : file.tensors) {
    if (skip_optimizer && starts_with(name, kOptimizerPrefix)) continue;
    bool known = false;
    for (const auto& [param_name, p] : params) known = known || param_name == name;
    if (!known) unexpected.push_back(name);
  }
  std::vector<std::string> problems;
  const auto count = [](size_t n, const char* what) { return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s"); };
  if (options.strict && !missing.empty()) problems.push_back(count(missing.size(), "missing key") + ": " + key_list(missing));
  if (options.strict && !unexpected.empty())
    problems.push_back(count(unexpected.size(), "unexpected key") + ": " + key_list(unexpected));
  problems.insert(problems.end(), mismatches.begin(), mismatches.end());
  if (!problems.empty()) {
    std::string message;
    for (size_t i = 0; i < problems.size(); ++i) message += fmt::format("{}{}", i ? "; " : "", problems[i]);
    fail("load \"{}\": {}", path, message);
  }
  return copies;
}

}  // namespace

bool is_reserved_key(const std::string& key) {
  return key == "format" || starts_with(key, kOptimizerPrefix) || starts_with(key, kSchedulePrefix) ||
         starts_with(key, "scaler.") || starts_with(key, "generator.");
}

SafetensorsContents checkpoint_contents(const Module& module, const std::string& path, const Metadata& metadata) {
  SafetensorsContents contents;
  for (const auto& [key, value] : metadata) {
    if (is_reserved_key(key))
      fail("save \"{}\": metadata key \"{}\" is reserved (format, optimizer.*, schedule.*, scaler.*, generator.*)", path,
           key);
    contents.metadata[key] = value;
  }
  contents.metadata["format"] = kCheckpointFormat;
  for (const auto& [name, p] : module.state_dict()) contents.tensors.emplace_back(name, p);
  return contents;
}

CheckedLoad check_load(const Module& module, const SafetensorsContents& file, const std::string& path,
                       LoadOptions options) {
  const auto format = file.metadata.find("format");
  if (format != file.metadata.end() && format->second != kCheckpointFormat)
    fail("load \"{}\": format \"{}\" is not the \"{}\" this build reads", path, format->second, kCheckpointFormat);
  const bool has_optimizer = file.metadata.count("optimizer.type") > 0;
  CheckedLoad checked;
  checked.copies_ = match_parameters(module, file, has_optimizer, path, options);
  for (const auto& [key, value] : file.metadata)
    if (!is_reserved_key(key)) checked.metadata_[key] = value;
  return checked;
}

void CheckedLoad::apply() const {
  NoGrad no_grad;
  for (const auto& [param, t] : copies_) kernels::copy_into(t.to(param.device()), param);  // onto the parameter's device
}

void save(const Module& module, const std::string& path, const Metadata& metadata) {
  const SafetensorsContents contents = checkpoint_contents(module, path, metadata);
  save_safetensors(path, contents.tensors, contents.metadata);  // writes host copies: the file does not depend on the device
}

Metadata load(Module& module, const std::string& path, LoadOptions options) {
  const CheckedLoad checked = check_load(module, load_safetensors(path), path, options);
  checked.apply();
  return checked.metadata();
}

}  // namespace tg::nn
