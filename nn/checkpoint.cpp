#include "nn/checkpoint.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/kernels.h"
#include "core/safetensors.h"
#include "core/tape.h"

namespace tg::nn {

namespace {

constexpr const char* kFormat = "tapegrad.checkpoint.v1";
constexpr std::string_view kOptimizerPrefix = "optimizer.";
constexpr std::string_view kSchedulePrefix = "schedule.";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_reserved(const std::string& key) {
  return key == "format" || starts_with(key, kOptimizerPrefix) || starts_with(key, kSchedulePrefix);
}

// The shortest text that reads back as the same double.
std::string number_text(double v) { return fmt::format("{}", v); }

double parse_number(const std::string& text, const std::string& key, const std::string& path) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    fail("load \"{}\": metadata \"{}\" should be a number, got \"{}\"", path, key, text);
  return v;
}

void write(const Module& module, const optim::Optimizer* optimizer, const optim::LRSchedule* schedule,
           const std::string& path, const Metadata& metadata) {
  NamedTensors tensors;
  Metadata meta;
  for (const auto& [key, value] : metadata) {
    if (is_reserved(key))
      fail("save \"{}\": metadata key \"{}\" is reserved (format, optimizer.*, schedule.*)", path, key);
    meta[key] = value;
  }
  meta["format"] = kFormat;
  for (const auto& [name, p] : module.named_parameters()) {
    if (optimizer != nullptr && starts_with(name, kOptimizerPrefix))
      fail("save \"{}\": parameter \"{}\" collides with the optimizer's key prefix", path, name);
    tensors.emplace_back(name, p);
  }
  if (optimizer != nullptr) {
    const optim::OptimizerState state = optimizer->state();
    meta["optimizer.type"] = state.type;
    for (const auto& [key, value] : state.scalars) meta[std::string(kOptimizerPrefix) + key] = number_text(value);
    for (const auto& [key, t] : state.tensors) tensors.emplace_back(std::string(kOptimizerPrefix) + key, t);
  }
  if (schedule != nullptr) {
    meta["schedule.type"] = schedule->type_name();
    for (const auto& [key, value] : schedule->state()) meta[std::string(kSchedulePrefix) + key] = number_text(value);
  }
  save_safetensors(path, tensors, meta);  // writes host copies: the file does not depend on the device
}

std::string key_list(const std::vector<std::string>& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", keys[i]);
  return out;
}

// Matches the file's module tensors against the module; throws listing every
// problem; returns (parameter, file tensor) pairs to copy.
std::vector<std::pair<Tensor, Tensor>> match_parameters(const Module& module, const SafetensorsContents& file,
                                                        bool skip_optimizer, const std::string& path,
                                                        LoadOptions options) {
  const auto params = module.named_parameters();
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

optim::OptimizerState read_optimizer_state(const SafetensorsContents& file, const std::string& path) {
  const auto type = file.metadata.find("optimizer.type");
  if (type == file.metadata.end()) fail("load \"{}\": the file holds no optimizer state", path);
  optim::OptimizerState state;
  state.type = type->second;
  for (const auto& [key, value] : file.metadata)
    if (starts_with(key, kOptimizerPrefix) && key != "optimizer.type")
      state.scalars[key.substr(kOptimizerPrefix.size())] = parse_number(value, key, path);
  for (const auto& [name, t] : file.tensors)
    if (starts_with(name, kOptimizerPrefix)) state.tensors.emplace_back(name.substr(kOptimizerPrefix.size()), t);
  return state;
}

std::map<std::string, double> read_schedule_state(const SafetensorsContents& file, const optim::LRSchedule& schedule,
                                                  const std::string& path) {
  const auto type = file.metadata.find("schedule.type");
  if (type == file.metadata.end()) fail("load \"{}\": the file holds no schedule state", path);
  if (type->second != schedule.type_name())
    fail("load \"{}\": the file holds a {} schedule, this one is {}", path, type->second, schedule.type_name());
  std::map<std::string, double> state;
  for (const auto& [key, value] : file.metadata)
    if (starts_with(key, kSchedulePrefix) && key != "schedule.type")
      state[key.substr(kSchedulePrefix.size())] = parse_number(value, key, path);
  return state;
}

Metadata read(Module& module, optim::Optimizer* optimizer, optim::LRSchedule* schedule, const std::string& path,
              LoadOptions options) {
  const SafetensorsContents file = load_safetensors(path);
  const auto format = file.metadata.find("format");
  if (format != file.metadata.end() && format->second != kFormat)
    fail("load \"{}\": format \"{}\" is not the \"{}\" this build reads", path, format->second, kFormat);
  const bool has_optimizer = file.metadata.count("optimizer.type") > 0;
  const auto copies = match_parameters(module, file, has_optimizer, path, options);
  if (optimizer != nullptr) {
    const optim::OptimizerState state = read_optimizer_state(file, path);
    const std::map<std::string, double> schedule_state =
        schedule != nullptr ? read_schedule_state(file, *schedule, path) : std::map<std::string, double>{};
    try {
      optimizer->load_state(state);
    } catch (const Error& e) {
      fail("load \"{}\": {}", path, e.what());
    }
    if (schedule != nullptr) schedule->load_state(schedule_state);
  }
  {
    NoGrad no_grad;
    for (const auto& [param, t] : copies) kernels::copy_into(t.to(param.device()), param);  // onto the parameter's device
  }
  Metadata user;
  for (const auto& [key, value] : file.metadata)
    if (!is_reserved(key)) user[key] = value;
  return user;
}

}  // namespace

void save(const Module& module, const std::string& path, const Metadata& metadata) {
  write(module, nullptr, nullptr, path, metadata);
}

void save(const Module& module, const optim::Optimizer& optimizer, const std::string& path, const Metadata& metadata,
          const optim::LRSchedule* schedule) {
  write(module, &optimizer, schedule, path, metadata);
}

Metadata load(Module& module, const std::string& path, LoadOptions options) {
  return read(module, nullptr, nullptr, path, options);
}

Metadata load(Module& module, optim::Optimizer& optimizer, const std::string& path, LoadOptions options,
              optim::LRSchedule* schedule) {
  return read(module, &optimizer, schedule, path, options);
}

}  // namespace tg::nn
