#pragma once
// A backend for a device other than the host, built as a shared module of
// its own (libtapegrad-cuda.so for DeviceKind::cuda) so that a program that
// never asks for the device maps none of its libraries. The engine loads it
// with dlopen the first time a device of that kind is used, looking in:
//   1. $TAPEGRAD_BACKEND_DIR, when set;
//   2. the folder of the library holding the engine (libtapegrad.so), where
//      the build and `meson install` put it;
//   3. the dynamic loader's own search path (LD_LIBRARY_PATH, ld.so.cache).
// A module exports one C function, `tapegrad_device_module`, returning its
// DeviceModule.
#include <string>

#include "core/dispatch/cuda.h"
#include "core/types/device.h"

namespace tg {

class Backend;

class DeviceModule {
 public:
  virtual ~DeviceModule() = default;
  // Devices of this kind that the driver sees (0 when none or no driver),
  // and why there are none ("" when there are).
  virtual int device_count() = 0;
  virtual std::string unavailable_reason() = 0;
  // The backend of device `index`; throws for a missing device.
  virtual Backend& backend(int index) = 0;
  virtual void synchronize(int index) = 0;
  virtual cuda::MemoryStats memory_stats(int index) = 0;
  virtual void release_cached(int index) = 0;
};

// The signature of the function a module exports.
using DeviceModuleEntry = DeviceModule* (*)();
inline constexpr const char* device_module_entry_name = "tapegrad_device_module";

// The module of `kind`, loaded on the first call; throws a tg::Error naming
// every file tried and the loader's message when it cannot be loaded.
DeviceModule& device_module(DeviceKind kind);
// The same without throwing: nullptr, with the reason in *why.
DeviceModule* find_device_module(DeviceKind kind, std::string* why);
// True once the module of `kind` is loaded (nothing is loaded by asking).
bool device_module_loaded(DeviceKind kind);

}  // namespace tg
