extern "C" __global__ void __launch_bounds__(256) kiln_cumsum_rows_0(const float* __restrict__ cx, float* __restrict__ c) {
  {
    const long long c_i0_o = blockIdx.x;
    {
      const long long c_i0_i = threadIdx.x;
      if ((((c_i0_o * 256LL) + c_i0_i) < 300LL)) {
        c[((c_i0_o * 25600LL) + (c_i0_i * 100LL))] = (cx[((c_i0_o * 25600LL) + (c_i0_i * 100LL))] + 0x0p+0f);
      }
      for (long long c_i1 = 0; c_i1 < 99LL; ++c_i1) {
        if ((((c_i0_o * 256LL) + c_i0_i) < 300LL)) {
          c[((((c_i0_o * 25600LL) + (c_i0_i * 100LL)) + c_i1) + 1LL)] = (c[(((c_i0_o * 25600LL) + (c_i0_i * 100LL)) + c_i1)] + cx[((((c_i0_o * 25600LL) + (c_i0_i * 100LL)) + c_i1) + 1LL)]);
        }
      }
    }
  }
}
