#pragma once
// CRC-32 (the IEEE polynomial of gzip, PNG and zlib's crc32): a checksum that
// catches any change of up to 32 consecutive bits and any single bit flip.
// crc32("123456789") == 0xCBF43926. Continue a running checksum by passing it
// back: crc32(b, crc32(a)) == crc32(a + b).
#include <cstdint>
#include <string_view>

namespace tg {

uint32_t crc32(std::string_view bytes, uint32_t previous = 0);

}  // namespace tg
