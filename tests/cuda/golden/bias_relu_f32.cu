extern "C" __global__ void __launch_bounds__(256) kiln_bias_relu_f32_0(const float* __restrict__ x, const float* __restrict__ b, float* __restrict__ y) {
  {
    const long long y_i0_i1_o = blockIdx.x;
    {
      const long long y_i0_i1_i = threadIdx.x;
      if ((((y_i0_i1_o * 256LL) + y_i0_i1_i) < 2100LL)) {
        y[((y_i0_i1_o * 256LL) + y_i0_i1_i)] = kiln_max(((x[((y_i0_i1_o * 256LL) + y_i0_i1_i)] * 0x1p+1f) + b[kiln_floormod(((y_i0_i1_o * 256LL) + y_i0_i1_i), 7LL)]), 0x0p+0f);
      }
    }
  }
}
