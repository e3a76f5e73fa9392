extern "C" __global__ void __launch_bounds__(256) kiln_floor_division_0(const float* __restrict__ xf32, const double* __restrict__ xf64, float* __restrict__ qf32, double* __restrict__ qf64) {
  {
    const long long qf32_i0_o = blockIdx.x;
    {
      const long long qf32_i0_i = threadIdx.x;
      if ((((qf32_i0_o * 256LL) + qf32_i0_i) < 100LL)) {
        qf32[((qf32_i0_o * 256LL) + qf32_i0_i)] = (kiln_float_floordiv(xf32[((qf32_i0_o * 256LL) + qf32_i0_i)], (-0x1.8p+1f)) + kiln_float_floormod(xf32[((qf32_i0_o * 256LL) + qf32_i0_i)], (-0x1.8p+1f)));
      }
    }
  }
}

extern "C" __global__ void __launch_bounds__(256) kiln_floor_division_1(const float* __restrict__ xf32, const double* __restrict__ xf64, float* __restrict__ qf32, double* __restrict__ qf64) {
  {
    const long long qf64_i0_o = blockIdx.x;
    {
      const long long qf64_i0_i = threadIdx.x;
      if ((((qf64_i0_o * 256LL) + qf64_i0_i) < 100LL)) {
        qf64[((qf64_i0_o * 256LL) + qf64_i0_i)] = (kiln_float_floordiv(xf64[((qf64_i0_o * 256LL) + qf64_i0_i)], (-0x1.8p+1)) + kiln_float_floormod(xf64[((qf64_i0_o * 256LL) + qf64_i0_i)], (-0x1.8p+1)));
      }
    }
  }
}
