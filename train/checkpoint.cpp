#include "train/checkpoint.h"

#include <fmt/format.h>

#include <cstdlib>
#include <map>

#include "core/error.h"
#include "io/safetensors.h"

namespace tg::train {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The shortest text that reads back as the same double.
std::string number_text(double v) { return fmt::format("{}", v); }

double parse_number(const std::string& text, const std::string& key, const std::string& path) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    fail("load \"{}\": metadata \"{}\" should be a number, got \"{}\"", path, key, text);
  return v;
}

optim::OptimizerState read_optimizer_state(const SafetensorsContents& file, const std::string& path) {
  const auto type = file.metadata.find("optimizer.type");
  if (type == file.metadata.end()) fail("load \"{}\": the file holds no optimizer state", path);
  optim::OptimizerState state;
  state.type = type->second;
  for (const auto& [key, value] : file.metadata)
    if (starts_with(key, nn::kOptimizerPrefix) && key != "optimizer.type")
      state.scalars[key.substr(nn::kOptimizerPrefix.size())] = parse_number(value, key, path);
  for (const auto& [name, t] : file.tensors)
    if (starts_with(name, nn::kOptimizerPrefix)) state.tensors.emplace_back(name.substr(nn::kOptimizerPrefix.size()), t);
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
    if (starts_with(key, nn::kSchedulePrefix) && key != "schedule.type")
      state[key.substr(nn::kSchedulePrefix.size())] = parse_number(value, key, path);
  return state;
}

}  // namespace

void save(const nn::Module& module, const optim::Optimizer& optimizer, const std::string& path,
          const nn::Metadata& metadata, const optim::LRSchedule* schedule) {
  SafetensorsContents contents = nn::checkpoint_contents(module, path, metadata);
  for (const auto& [name, p] : contents.tensors)
    if (starts_with(name, nn::kOptimizerPrefix))
      fail("save \"{}\": parameter \"{}\" collides with the optimizer's key prefix", path, name);
  const optim::OptimizerState state = optimizer.state();
  contents.metadata["optimizer.type"] = state.type;
  for (const auto& [key, value] : state.scalars)
    contents.metadata[std::string(nn::kOptimizerPrefix) + key] = number_text(value);
  for (const auto& [key, t] : state.tensors) contents.tensors.emplace_back(std::string(nn::kOptimizerPrefix) + key, t);
  if (schedule != nullptr) {
    contents.metadata["schedule.type"] = schedule->type_name();
    for (const auto& [key, value] : schedule->state())
      contents.metadata[std::string(nn::kSchedulePrefix) + key] = number_text(value);
  }
  save_safetensors(path, contents.tensors, contents.metadata);  // writes host copies: the file does not depend on the device
}

nn::Metadata load(nn::Module& module, optim::Optimizer& optimizer, const std::string& path, nn::LoadOptions options,
                  optim::LRSchedule* schedule) {
  const SafetensorsContents file = load_safetensors(path);
  const nn::CheckedLoad parameters = nn::check_load(module, file, path, options);
  const optim::OptimizerState state = read_optimizer_state(file, path);
  const std::map<std::string, double> schedule_state =
      schedule != nullptr ? read_schedule_state(file, *schedule, path) : std::map<std::string, double>{};
  try {
    optimizer.load_state(state);
  } catch (const Error& e) {
    fail("load \"{}\": {}", path, e.what());
  }
  if (schedule != nullptr) schedule->load_state(schedule_state);
  parameters.apply();
  return parameters.metadata();
}

}  // namespace tg::train
