#pragma once
// Reading the gzipped IDX files MNIST and Fashion-MNIST come in
// (http://yann.lecun.com/exdb/mnist/): a big-endian header, then the bytes.
//   images: magic 0x00000803, count, rows, cols, then count·rows·cols pixels (0-255)
//   labels: magic 0x00000801, count, then count labels (0-9)
#include <cstdint>
#include <string>
#include <vector>

namespace fashion_mnist {

struct Images {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count · rows · cols, row-major
};

// Each throws a tg::Error naming the file and what was expected when the file
// is missing, is not gzip, has the wrong magic number or is cut short.
Images read_images(const std::string& path);
std::vector<uint8_t> read_labels(const std::string& path);

}  // namespace fashion_mnist
