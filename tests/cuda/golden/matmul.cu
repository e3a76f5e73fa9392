extern "C" __global__ void __launch_bounds__(256) kiln_matmul_0(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C) {
  {
    const long long C_i0_i1_o = blockIdx.x;
    {
      const long long C_i0_i1_i = threadIdx.x;
      {
        float C_acc[1];
        C_acc[0LL] = 0x0p+0f;
        for (long long C_r0 = 0; C_r0 < 64LL; ++C_r0) {
          C_acc[0LL] = (C_acc[0LL] + (A[((kiln_floordiv(((C_i0_i1_o * 256LL) + C_i0_i1_i), 96LL) * 64LL) + C_r0)] * B[((C_r0 * 96LL) + kiln_floormod(((C_i0_i1_o * 256LL) + C_i0_i1_i), 96LL))]));
        }
        C[((C_i0_i1_o * 256LL) + C_i0_i1_i)] = C_acc[0LL];
      }
    }
  }
}
