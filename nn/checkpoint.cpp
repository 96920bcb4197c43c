#include "nn/checkpoint.h"

#include <algorithm>
#include <cmath>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

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

// "a and b" / "a, b and c"
std::string and_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += fmt::format("{}{}", i == 0 ? "" : i + 1 == names.size() ? " and " : ", ", names[i]);
  return out;
}

// Where two file tensors of one shape and dtype first differ ("" when equal;
// NaN equals NaN, int64 compared exactly).
std::string first_difference(const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::i64) {
    const std::vector<int64_t> x = a.to_vector<int64_t>(), y = b.to_vector<int64_t>();
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i] != y[i]) return fmt::format("element {}: {} and {}", i, x[i], y[i]);
    return {};
  }
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i)
    if (!(x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))))
      return fmt::format("element {}: {} and {}", i, x[i], y[i]);
  return {};
}

// Matches the file's module tensors against the module; throws listing every
// problem; returns (parameter, file tensor) pairs to copy.
//
// A tied tensor (one tensor under several names, `out.weight = embed.weight;`)
// is one entry of state_dict() under its first name. A PyTorch state_dict
// holds it under every name: any of its names in the file serves, and when
// several are there they must hold the same values (else the tie could not
// hold both: refused, naming them).
std::vector<std::pair<Tensor, Tensor>> match_parameters(const Module& module, const SafetensorsContents& file,
                                                        bool skip_optimizer, const std::string& path,
                                                        LoadOptions options) {
  const auto params = module.state_dict();  // parameters and buffers, each tensor once
  const auto all_names = module.state_dict_all_names();
  std::vector<std::string> missing, unexpected, mismatches;
  std::vector<std::pair<Tensor, Tensor>> copies;
  for (const auto& [name, p] : params) {
    std::vector<std::string> names;  // every name of p, its first one first
    for (const auto& [other, q] : all_names)
      if (q.is_same(p) && std::find(names.begin(), names.end(), other) == names.end()) names.push_back(other);
    std::vector<std::pair<std::string, const Tensor*>> found;  // the file's tensors under those names
    for (const std::string& n : names)
      if (const Tensor* t = file.find(n)) found.emplace_back(n, t);
    if (found.empty()) {
      missing.push_back(name);
      continue;
    }
    bool usable = true;
    for (const auto& [key, t] : found) {
      if (t->shape() != p.shape()) {
        mismatches.push_back(fmt::format("shape mismatch: {} is {} in the file, {} in the model", key,
                                         t->shape().str(), p.shape().str()));
        usable = false;
      } else if (t->dtype() != p.dtype()) {
        mismatches.push_back(fmt::format("dtype mismatch: {} is {} in the file, {} in the model", key,
                                         dtype_name(t->dtype()), dtype_name(p.dtype())));
        usable = false;
      } else if (const std::string bad = options.allow_non_finite ? "" : non_finite_values(*t); !bad.empty()) {
        mismatches.push_back(fmt::format("{} {}", key, bad));
        usable = false;
      }
    }
    if (!usable) continue;
    for (size_t i = 1; i < found.size(); ++i)
      if (const std::string where = first_difference(*found[0].second, *found[i].second); !where.empty()) {
        std::vector<std::string> keys;
        for (const auto& f : found) keys.push_back(f.first);
        mismatches.push_back(fmt::format(
            "tied weights differ: {} are one tensor in the model (tied) but {} and {} hold different values in the "
            "file (first at {})",
            and_list(keys), found[0].first, found[i].first, where));
        usable = false;
        break;
      }
    if (usable) copies.emplace_back(p, *found[0].second);
  }
  for (const auto& [name, t] : file.tensors) {
    if (skip_optimizer && starts_with(name, kOptimizerPrefix)) continue;
    bool known = false;
    for (const auto& [param_name, p] : all_names) known = known || param_name == name;
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
  for (const auto& [param, t] : copies_) compute::copy_into(t.to(param.device()), param);  // onto the parameter's device
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
