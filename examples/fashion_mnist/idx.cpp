#include "idx.h"

#include <zlib.h>

#include <filesystem>
#include <memory>

#include <tapegrad.h>

namespace fashion_mnist {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// The whole decompressed file.
std::vector<uint8_t> read_gz(const std::string& path) {
  if (!std::filesystem::exists(path)) tg::fail("fashion_mnist: '{}' does not exist", path);
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) tg::fail("fashion_mnist: cannot open '{}'", path);
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      tg::fail("fashion_mnist: '{}': corrupt gzip data: {}", path, gzerror(file.get(), &code));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  return bytes;
}

uint32_t big_endian(const std::vector<uint8_t>& bytes, size_t at) {
  return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) | (uint32_t{bytes[at + 2]} << 8) |
         uint32_t{bytes[at + 3]};
}

// Checks the header (magic, then `dims` sizes) and the length; returns the sizes.
std::vector<int64_t> header(const std::vector<uint8_t>& bytes, const std::string& path, uint32_t magic, int dims,
                            const char* what) {
  const size_t header_bytes = 4 + 4 * static_cast<size_t>(dims);
  if (bytes.size() < header_bytes)
    tg::fail("fashion_mnist: '{}' holds {} bytes, too few for an IDX {} header ({} bytes)", path, bytes.size(), what,
             header_bytes);
  if (big_endian(bytes, 0) != magic)
    tg::fail("fashion_mnist: '{}' starts with magic number 0x{:08x}, expected 0x{:08x} (IDX {}, unsigned bytes, {} dims)",
             path, big_endian(bytes, 0), magic, what, dims);
  std::vector<int64_t> sizes;
  size_t expected = 1;
  for (int d = 0; d < dims; ++d) {
    sizes.push_back(big_endian(bytes, 4 + 4 * static_cast<size_t>(d)));
    expected *= static_cast<size_t>(sizes.back());
  }
  if (bytes.size() != header_bytes + expected)
    tg::fail("fashion_mnist: '{}' holds {} bytes of data after its header, its sizes say {}", path,
             bytes.size() - header_bytes, expected);
  return sizes;
}

}  // namespace

Images read_images(const std::string& path) {
  std::vector<uint8_t> bytes = read_gz(path);
  const std::vector<int64_t> sizes = header(bytes, path, 0x00000803, 3, "images");
  Images images{sizes[0], sizes[1], sizes[2], {}};
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

std::vector<uint8_t> read_labels(const std::string& path) {
  std::vector<uint8_t> bytes = read_gz(path);
  header(bytes, path, 0x00000801, 1, "labels");
  std::vector<uint8_t> labels(bytes.begin() + 8, bytes.end());
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] > 9) tg::fail("fashion_mnist: '{}': label {} is {}, expected 0-9", path, i, labels[i]);
  return labels;
}

}  // namespace fashion_mnist
