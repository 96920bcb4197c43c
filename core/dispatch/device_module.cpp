#include "core/dispatch/device_module.h"

#include <dlfcn.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/services/error.h"

namespace tg {

namespace {

std::string_view kind_name(DeviceKind kind) { return kind == DeviceKind::cuda ? "cuda" : "cpu"; }

// The folder of the file holding this engine: libtapegrad.so, or the program
// when the engine is linked into it.
std::filesystem::path engine_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&find_device_module), &info) == 0 || info.dli_fname == nullptr) return {};
  return std::filesystem::path(info.dli_fname).lexically_normal().parent_path();
}

struct LoadedModule {
  bool tried = false;
  DeviceModule* module = nullptr;
  std::string error;  // why module is null
};

// Tries the places core/dispatch/device_module.h lists, in order; the first file that
// loads and exports the entry point wins.
LoadedModule load(DeviceKind kind) {
  const std::string file = fmt::format("libtapegrad-{}.so", kind_name(kind));
  std::vector<std::string> candidates;
  if (const char* dir = std::getenv("TAPEGRAD_BACKEND_DIR"); dir != nullptr && *dir != '\0')
    candidates.push_back((std::filesystem::path(dir) / file).string());
  if (const auto folder = engine_folder(); !folder.empty()) candidates.push_back((folder / file).string());
  candidates.push_back(file);  // the loader's search path

  std::string tried;
  for (const std::string& path : candidates) {
    const bool is_path = path.find('/') != std::string::npos;
    if (is_path && !std::filesystem::exists(path)) {
      tried += fmt::format("\n  {}: no such file", path);
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* message = dlerror();
      tried += fmt::format("\n  {}: {}", path, message != nullptr ? message : "dlopen failed");
      continue;
    }
    auto entry = reinterpret_cast<DeviceModuleEntry>(dlsym(handle, device_module_entry_name));
    if (entry == nullptr) {
      tried += fmt::format("\n  {}: loaded, but it exports no {}()", path, device_module_entry_name);
      dlclose(handle);
      continue;
    }
    return {true, entry(), {}};  // never unloaded: tensors on the device may outlive everything
  }
  return {true, nullptr,
          fmt::format("the {} backend module {} could not be loaded (build tapegrad with -Dcuda=enabled where "
                      "nvcc and cuBLAS are installed, or set TAPEGRAD_BACKEND_DIR to its folder); tried:{}",
                      kind_name(kind), file, tried)};
}

std::mutex modules_mutex;
LoadedModule loaded_cuda;
// loaded_cuda.module once it loaded: read without the lock, because every
// kernel on a cuda tensor asks for its backend through here.
std::atomic<DeviceModule*> cuda_module{nullptr};

}  // namespace

DeviceModule* find_device_module(DeviceKind kind, std::string* why) {
  if (kind != DeviceKind::cuda) {
    if (why != nullptr) *why = fmt::format("device kind {} has no backend module", kind_name(kind));
    return nullptr;
  }
  if (DeviceModule* module = cuda_module.load(std::memory_order_acquire)) return module;
  std::lock_guard lock(modules_mutex);
  if (!loaded_cuda.tried) {
    loaded_cuda = load(kind);
    cuda_module.store(loaded_cuda.module, std::memory_order_release);
  }
  if (loaded_cuda.module == nullptr && why != nullptr) *why = loaded_cuda.error;
  return loaded_cuda.module;
}

DeviceModule& device_module(DeviceKind kind) {
  std::string why;
  DeviceModule* module = find_device_module(kind, &why);
  if (module == nullptr) fail("device {}: {}", kind_name(kind), why);
  return *module;
}

bool device_module_loaded(DeviceKind kind) { return kind == DeviceKind::cuda && cuda_module != nullptr; }

// core/dispatch/cuda.h, on top of the module.
namespace cuda {

bool is_built() { return find_device_module(DeviceKind::cuda, nullptr) != nullptr; }
int device_count() {
  DeviceModule* module = find_device_module(DeviceKind::cuda, nullptr);
  return module != nullptr ? module->device_count() : 0;
}
bool is_available() { return device_count() > 0; }
std::string unavailable_reason() {
  std::string why;
  DeviceModule* module = find_device_module(DeviceKind::cuda, &why);
  return module != nullptr ? module->unavailable_reason() : why;
}
void synchronize(Device device) { device_module(DeviceKind::cuda).synchronize(device.index); }
MemoryStats memory_stats(Device device) { return device_module(DeviceKind::cuda).memory_stats(device.index); }
void release_cached(Device device) {
  if (device_module_loaded(DeviceKind::cuda)) device_module(DeviceKind::cuda).release_cached(device.index);
}

}  // namespace cuda
}  // namespace tg
