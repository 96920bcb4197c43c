#include "train/training_checkpoint.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>

#include "core/services/error.h"
#include "io/safetensors.h"
#include "train/finite.h"

namespace tg::train {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The shortest text that reads back as the same double.
std::string number_text(double v) { return fmt::format("{}", v); }

// The number `text` holds whole, or nullopt.
std::optional<double> whole_number(const std::string& text) {
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

double parse_number(const std::string& text, const std::string& key, const std::string& path) {
  const std::optional<double> v = whole_number(text);
  if (!v) fail("load \"{}\": metadata \"{}\" should be a number, got \"{}\"", path, key, text);
  return *v;  // its owner checks its range (a plateau's best may be inf)
}

// Every tensor of a training file finite, else an error naming the first that is not.
void check_finite(const SafetensorsContents& file, const std::string& path) {
  for (const auto& [name, t] : file.tensors)
    if (const std::string where = first_non_finite(t); !where.empty())
      fail("load \"{}\": \"{}\" holds a non-finite value ({}); a training state with nan or inf cannot be resumed: "
           "go back to an earlier checkpoint, or start again",
           path, name, where);
}

optim::OptimizerState read_optimizer_state(const SafetensorsContents& file, const std::string& path) {
  const auto type = file.metadata.find("optimizer.type");
  if (type == file.metadata.end()) fail("load \"{}\": the file holds no optimizer state", path);
  optim::OptimizerState state;
  state.type = type->second;
  for (const auto& [key, value] : file.metadata)
    if (starts_with(key, nn::kOptimizerPrefix) && key != "optimizer.type")
      state.scalars[key.substr(nn::kOptimizerPrefix.size())] = parse_number(value, key, path);
  if (const auto lr = state.scalars.find("lr"); lr != state.scalars.end() && !std::isfinite(lr->second))
    fail("load \"{}\": the optimizer's lr is {}; a training state with nan or inf cannot be resumed", path,
         file.metadata.at("optimizer.lr"));
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
          const nn::Metadata& metadata, const optim::LRSchedule* schedule, const ExtraState& extra) {
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
  if (extra.scaler != nullptr)
    for (const auto& [key, value] : extra.scaler->state()) contents.metadata["scaler." + key] = number_text(value);
  for (const auto& [name, generator] : extra.generators) contents.metadata["generator." + name] = generator->get_state();
  save_safetensors(path, contents.tensors, contents.metadata);  // writes host copies: the file does not depend on the device
}

nn::Metadata load(nn::Module& module, optim::Optimizer& optimizer, const std::string& path, nn::LoadOptions options,
                  optim::LRSchedule* schedule, const ExtraState& extra) {
  const SafetensorsContents file = load_safetensors(path);
  check_finite(file, path);
  const nn::CheckedLoad parameters = nn::check_load(module, file, path, options);
  const optim::OptimizerState state = read_optimizer_state(file, path);
  const std::map<std::string, double> schedule_state =
      schedule != nullptr ? read_schedule_state(file, *schedule, path) : std::map<std::string, double>{};
  std::map<std::string, double> scaler_state;
  if (extra.scaler != nullptr) {
    for (const auto& [key, value] : file.metadata)
      if (starts_with(key, "scaler.")) scaler_state[key.substr(7)] = parse_number(value, key, path);
    if (scaler_state.empty()) fail("load \"{}\": the file holds no loss-scaler state (scaler.*)", path);
  }
  if (extra.scaler != nullptr) {
    GradScaler probe = *extra.scaler;  // checked on a copy: nothing changes before everything is checked
    try {
      probe.load_state(scaler_state);
    } catch (const Error& e) {
      fail("load \"{}\": {}", path, e.what());
    }
  }
  for (const auto& [name, generator] : extra.generators) {
    const auto it = file.metadata.find("generator." + name);
    if (it == file.metadata.end())
      fail("load \"{}\": the file holds no state of the random stream '{}' (generator.{})", path, name, name);
    try {
      Generator().set_state(it->second);
    } catch (const Error& e) {
      fail("load \"{}\": generator.{}: {}", path, name, e.what());
    }
  }
  try {
    optimizer.load_state(state);
  } catch (const Error& e) {
    fail("load \"{}\": {}", path, e.what());
  }
  if (schedule != nullptr) schedule->load_state(schedule_state);
  if (extra.scaler != nullptr) extra.scaler->load_state(scaler_state);
  for (const auto& [name, generator] : extra.generators) generator->set_state(file.metadata.at("generator." + name));
  parameters.apply();
  return parameters.metadata();
}

double metadata_number(const nn::Metadata& metadata, const std::string& key, const std::string& path) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) fail("{} has no '{}' in its metadata", path, key);
  const std::optional<double> v = whole_number(it->second);
  if (!v || !std::isfinite(*v)) fail("{}: metadata '{}' is '{}', not a number", path, key, it->second);
  return *v;
}

int64_t metadata_integer(const nn::Metadata& metadata, const std::string& key, const std::string& path) {
  const double v = metadata_number(metadata, key, path);
  if (v != std::floor(v) || std::abs(v) > 9e15) fail("{}: metadata '{}' is '{}', not a whole number", path, key, metadata.at(key));
  return static_cast<int64_t>(v);
}

}  // namespace tg::train
