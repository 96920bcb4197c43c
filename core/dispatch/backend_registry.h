#pragma once
// Where the engine finds backends without naming one (docs/layers.md): each
// backend library registers itself, and core/ asks here by name or device.
//
// Host backends are linked into libtapegrad and register while the program
// starts, with a static RegisterHostBackend in their own source file. The
// highest-ranked one is the default: it runs host kernels unless
// set_host_backend picks another, and its bodies run the kernels another host
// backend registers none for (core/dispatch/kernel_table.h).
//
// Device backends are modules (libtapegrad-<kind>.so) that core/dispatch/device_module.h
// loads the first time a device of their kind is asked for.
#include <string>
#include <string_view>
#include <vector>


namespace tg {

class Backend;

struct RegisterHostBackend {
  RegisterHostBackend(std::string_view name, int rank, Backend& (*get)());
};

// The host backend registered under `name`; throws naming the registered ones.
Backend& host_backend_named(std::string_view name);
// The names registered, highest rank first.
std::vector<std::string> host_backend_names();
// The highest-ranked host backend; throws when none is linked in.
Backend& default_host_backend();

}  // namespace tg
