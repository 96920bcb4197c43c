#pragma once
// AMX tiles: the configuration that the bfloat16 tile kernel (cpu_gemm.cpp), the
// int8 one (kernels/int8_linear/int8_linear_cpu.cpp) and bench_instruction_rate
// load, and whether this process may use the tiles.
// Header only: bench_instruction_rate links nothing of tapegrad.
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

// The compiler has the AMX intrinsics (GCC 11, clang 13): the tile kernels are built where this is 1, and
// run where amx_granted says so.
#if defined(__x86_64__) && \
    ((defined(__clang__) && __clang_major__ >= 13) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11))
#define TG_AMX_INTRINSICS 1
#else
#define TG_AMX_INTRINSICS 0
#endif

namespace tg::cpu {

// Palette 1, tiles 0-7 each 16 rows of 64 bytes: 16 × 16 float32 or int32 sums, or 16 rows of 16 pairs of
// bfloat16 or of 16 quads of int8.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t bytes_per_row[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// The processor has AMX-TILE (cpuid leaf 7, edx bit 24) and the tile product `feature_bit` names (edx bit 22
// AMX-BF16, bit 25 AMX-INT8), and Linux grants the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM; a kernel
// before 5.16, or a hypervisor that hides the state, refuses). The grant holds for the whole process; asking
// again is harmless.
inline bool amx_granted(int feature_bit) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 24)) || !(edx & (1u << feature_bit)))
    return false;
  constexpr long kRequestPermission = 0x1023, kTileData = 18;  // ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
}
inline bool amx_bf16_granted() { return amx_granted(22); }
inline bool amx_int8_granted() { return amx_granted(25); }

// GCC's tile loads and stores are asm statements that do not say they touch memory: this barrier keeps the
// stores that fill a tile's source before the loads that read it, and reads of stored sums after the stores.
inline void tile_memory_barrier() { asm volatile("" ::: "memory"); }

}  // namespace tg::cpu
