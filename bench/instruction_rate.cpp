// The product instructions' rate on one core of this processor: how many
// vfmadd231ps (16 float32 multiply-adds, 32 flops), vdpbf16ps (32 bfloat16
// products summed pairwise into 16 float32, 64 flops) and vpdpbusd (64 byte
// products summed in fours into 16 int32, 128 operations) it retires per
// second, from 12 independent chains each (more than any one's latency
// needs). Their ratios bound what bfloat16 and int8 products can gain over
// float32 ones with AVX-512 here. Where the processor has AMX-BF16 (Intel's
// Sapphire and Emerald Rapids) and Linux grants the tiles, also AMX's
// tdpbf16ps (a 16 × 32 bfloat16 tile times a 32 × 16 one into 16 × 16
// float32 sums: 8,192 products, 16,384 flops), from 4 independent sums; and
// where it has AMX-INT8, tdpbusd (a 16 × 64 byte tile times a 64 × 16 one into
// 16 × 16 int32 sums: 16,384 products, 32,768 operations).
//
//   bench_instruction_rate [--seconds 1]
// Output: instruction_rate fma_per_s=.. fma_gflops=.. dpbf16_per_s=.. dpbf16_gflops=.. ratio=..
//         [dpbusd_per_s=.. int8_gops=..] (where the processor has AVX512-VNNI)
//         [tdpbf16_per_s=.. amx_bf16_gflops=.. amx_ratio=..] (where AMX-BF16 runs; ratio to float32's FMA)
//         [tdpbusd_per_s=.. amx_int8_gops=..] (where AMX-INT8 runs)
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "backends/cpu/amx_tiles.h"  // header only: nothing of tapegrad is linked

namespace {

constexpr int kChains = 12;

// Instructions a second: `per_round` of them in each of `rounds` rounds of body(rounds).
template <typename Body>
double per_second(double seconds, Body body, int per_round = kChains) {
  int64_t rounds = 1 << 20, done = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    body(rounds);
    done += rounds;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return static_cast<double>(done) * per_round / elapsed;
}

// Twelve accumulators held in registers (named, not an array, which the
// compiler would also store to memory after every step); the empty asm keeps
// each chain's every step without adding an instruction.
#define TG_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define TG_DECLARE(i) __m512 acc##i = _mm512_set1_ps(0.0f);
#define TG_KEEP(i) , "+v"(acc##i)
#define TG_FIRST_LANE(i) + _mm512_cvtss_f32(acc##i)

__attribute__((target("avx512f"))) float fma_rounds(int64_t rounds) {
  TG_CHAINS(TG_DECLARE)
  const __m512 x = _mm512_set1_ps(0.5f), y = _mm512_set1_ps(0.25f);
#define TG_FMA(i) acc##i = _mm512_fmadd_ps(acc##i, x, y);
  for (int64_t r = 0; r < rounds; ++r) {
    TG_CHAINS(TG_FMA)
    asm volatile("" : "+v"(acc0) TG_KEEP(1) TG_KEEP(2) TG_KEEP(3) TG_KEEP(4) TG_KEEP(5) TG_KEEP(6) TG_KEEP(7)
                          TG_KEEP(8) TG_KEEP(9) TG_KEEP(10) TG_KEEP(11));
  }
  return 0.0f TG_CHAINS(TG_FIRST_LANE);
}

__attribute__((target("avx512f,avx512bf16"))) float dpbf16_rounds(int64_t rounds) {
  TG_CHAINS(TG_DECLARE)
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f003f00), y = (__m512bh)_mm512_set1_epi32(0x3e803e80);
#define TG_DPBF16(i) acc##i = _mm512_dpbf16_ps(acc##i, x, y);
  for (int64_t r = 0; r < rounds; ++r) {
    TG_CHAINS(TG_DPBF16)
    asm volatile("" : "+v"(acc0) TG_KEEP(1) TG_KEEP(2) TG_KEEP(3) TG_KEEP(4) TG_KEEP(5) TG_KEEP(6) TG_KEEP(7)
                          TG_KEEP(8) TG_KEEP(9) TG_KEEP(10) TG_KEEP(11));
  }
  return 0.0f TG_CHAINS(TG_FIRST_LANE);
}

#define TG_DECLARE_INT(i) __m512i acc##i = _mm512_setzero_si512();
#define TG_DPBUSD(i) acc##i = _mm512_dpbusd_epi32(acc##i, x, y);
#define TG_FIRST_INT(i) + _mm512_cvtsi512_si32(acc##i)

__attribute__((target("avx512f,avx512vnni"))) int dpbusd_rounds(int64_t rounds) {
  TG_CHAINS(TG_DECLARE_INT)
  const __m512i x = _mm512_set1_epi32(0x01010101), y = _mm512_set1_epi32(0x01010101);
  for (int64_t r = 0; r < rounds; ++r) {
    TG_CHAINS(TG_DPBUSD)
    asm volatile("" : "+v"(acc0) TG_KEEP(1) TG_KEEP(2) TG_KEEP(3) TG_KEEP(4) TG_KEEP(5) TG_KEEP(6) TG_KEEP(7)
                          TG_KEEP(8) TG_KEEP(9) TG_KEEP(10) TG_KEEP(11));
  }
  return 0 TG_CHAINS(TG_FIRST_INT);
}

// Tiles 0-3 the sums (zero), 4-7 the operands, each 16 rows of the 64 bytes at `operand`.
__attribute__((target("amx-tile"))) void start_tiles(const void* operand) {
  static const tg::cpu::TileConfig config;
  _tile_loadconfig(&config);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

// Tile 0's sums to `sums` (16 rows of 64 bytes), and the tiles released.
__attribute__((target("amx-tile"))) void finish_tiles(void* sums) {
  _tile_stored(0, sums, 64);
  _tile_release();
}

__attribute__((target("amx-tile,amx-bf16"))) float tdpbf16_rounds(int64_t rounds) {
  alignas(64) static uint32_t operand[16 * 16];
  alignas(64) static float sums[16 * 16];
  for (uint32_t& pair : operand) pair = 0x3c003c00u;  // (2⁻⁷, 2⁻⁷): sums grow slowly
  start_tiles(operand);
  for (int64_t r = 0; r < rounds; ++r) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  finish_tiles(sums);
  return sums[0];
}

__attribute__((target("amx-tile,amx-int8"))) int tdpbusd_rounds(int64_t rounds) {
  alignas(64) static uint8_t operand[16 * 64];
  alignas(64) static int32_t sums[16 * 16];
  std::memset(operand, 1, sizeof operand);
  start_tiles(operand);
  for (int64_t r = 0; r < rounds; ++r) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  finish_tiles(sums);
  return sums[0];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  if (!__builtin_cpu_supports("avx512f")) {
    std::printf("instruction_rate: this processor has no AVX-512\n");
    return 0;
  }
  volatile float sink = 0;
  const double fma = per_second(seconds, [&](int64_t rounds) { sink = sink + fma_rounds(rounds); });
  if (!__builtin_cpu_supports("avx512bf16")) {
    std::printf("instruction_rate fma_per_s=%.3g fma_gflops=%.1f (no AVX512-BF16 here)\n", fma, fma * 32 / 1e9);
    return 0;
  }
  const double dp = per_second(seconds, [&](int64_t rounds) { sink = sink + dpbf16_rounds(rounds); });
  std::printf("instruction_rate fma_per_s=%.3g fma_gflops=%.1f dpbf16_per_s=%.3g dpbf16_gflops=%.1f ratio=%.2f", fma,
              fma * 32 / 1e9, dp, dp * 64 / 1e9, dp * 64 / (fma * 32));
  if (__builtin_cpu_supports("avx512vnni")) {
    volatile int int_sink = 0;
    const double busd = per_second(seconds, [&](int64_t rounds) { int_sink = int_sink + dpbusd_rounds(rounds); });
    std::printf(" dpbusd_per_s=%.3g int8_gops=%.1f", busd, busd * 128 / 1e9);
  }
  if (tg::cpu::amx_bf16_granted()) {
    const double tiles = per_second(seconds, [&](int64_t rounds) { sink = sink + tdpbf16_rounds(rounds); }, 4);
    std::printf(" tdpbf16_per_s=%.3g amx_bf16_gflops=%.1f amx_ratio=%.1f", tiles, tiles * 16384 / 1e9,
                tiles * 16384 / (fma * 32));
  }
  if (tg::cpu::amx_int8_granted()) {
    volatile int int_sink = 0;
    const double tiles = per_second(seconds, [&](int64_t rounds) { int_sink = int_sink + tdpbusd_rounds(rounds); }, 4);
    std::printf(" tdpbusd_per_s=%.3g amx_int8_gops=%.1f", tiles, tiles * 32768 / 1e9);
  }
  std::printf("\n");
  return 0;
}
