#include "backends/cpu/product_census.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <tuple>

#include "core/types/dtype.h"

namespace tg::cpu {

namespace {

char layout_of(const View& x) {
  const int64_t rows = x.shape[1], cols = x.shape[2], rs = x.strides[1], cs = x.strides[2];
  if (cols == 1 || cs == 1) return 'N';
  if (rows == 1 || rs == 1) return 'T';
  return 'S';
}

using Key = std::tuple<std::string, std::string, int64_t, int64_t, int64_t, int64_t, char, char>;

struct Census {
  std::atomic<bool> on{false};
  std::mutex mutex;
  std::map<Key, ProductShape> shapes;
};
Census& census() {
  static Census instance;
  return instance;
}

}  // namespace

void set_product_census(bool on) { census().on.store(on, std::memory_order_relaxed); }
bool product_census_on() { return census().on.load(std::memory_order_relaxed); }

void record_product(const char* kernel, const View& a, const View& b, const View& c, double seconds) {
  const Key key{kernel, dtype_name(c.dtype), c.shape[0], c.shape[1], c.shape[2], a.shape[2], layout_of(a), layout_of(b)};
  Census& all = census();
  const std::lock_guard lock(all.mutex);
  auto [it, fresh] = all.shapes.try_emplace(key);
  ProductShape& shape = it->second;
  if (fresh)
    shape = {std::get<0>(key), std::get<1>(key), c.shape[0], c.shape[1], c.shape[2], a.shape[2], std::get<6>(key),
             std::get<7>(key)};
  shape.calls += 1;
  shape.seconds += seconds;
}

std::vector<ProductShape> product_census() {
  Census& all = census();
  const std::lock_guard lock(all.mutex);
  std::vector<ProductShape> out;
  for (const auto& [key, shape] : all.shapes) out.push_back(shape);
  std::sort(out.begin(), out.end(), [](const ProductShape& x, const ProductShape& y) { return x.seconds > y.seconds; });
  return out;
}

void reset_product_census() {
  Census& all = census();
  const std::lock_guard lock(all.mutex);
  all.shapes.clear();
}

}  // namespace tg::cpu
