// Conversions between f32 and the 16-bit float formats, rounding to nearest even; shared by the
// interpreter and HostTensor so that both round exactly as the generated kernels do.
#pragma once

#include <cstdint>

namespace kiln {

uint16_t f32_to_f16_bits(float f);
float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_bf16_bits(float f);
float bf16_bits_to_f32(uint16_t b);

}  // namespace kiln
