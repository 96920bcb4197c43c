#pragma once
// Which instruction the cpu body of int8_linear (int8_linear_cpu.cpp) runs:
// AVX512-VNNI's vpdpbusd (16 int32 sums of 4 byte products an instruction),
// or AMX's tdpbusd (Intel's tiles: 16 × 16 int32 sums of 64 byte products
// each, from the same codes in place). Both sum exactly in int32, so both give
// the reference body's bits. Chosen by the processor: amx where it has
// AMX-INT8 and Linux grants the tiles, else vnni; TG_INT8_KERNEL=vnni|amx
// says otherwise, and the tests set each in turn.
#include <vector>

namespace tg::kernels {

enum class Int8Kernel { reference, vnni, amx };  // reference: the build has no VNNI target

// The kernels that run in this build and process (none where the build has no AVX512-VNNI target: the
// reference body runs, and int8_kernel() says reference).
std::vector<Int8Kernel> int8_kernels_here();
Int8Kernel int8_kernel();
// Throws where `kernel` does not run here.
void set_int8_kernel(Int8Kernel kernel);

}  // namespace tg::kernels
