extern "C" __global__ void __launch_bounds__(256) kiln_bias_relu_bf16_0(const unsigned short* __restrict__ x, const unsigned short* __restrict__ b, unsigned short* __restrict__ y) {
  {
    const long long y_i0_i1_o = blockIdx.x;
    {
      const long long y_i0_i1_i = threadIdx.x;
      if ((((y_i0_i1_o * 256LL) + y_i0_i1_i) < 2100LL)) {
        y[((y_i0_i1_o * 256LL) + y_i0_i1_i)] = kiln_f32_to_bf16(kiln_max(((kiln_bf16_to_f32(x[((y_i0_i1_o * 256LL) + y_i0_i1_i)]) * 0x1p+1f) + kiln_bf16_to_f32(b[kiln_floormod(((y_i0_i1_o * 256LL) + y_i0_i1_i), 7LL)])), 0x0p+0f));
      }
    }
  }
}
