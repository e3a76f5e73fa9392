extern "C" __global__ void __launch_bounds__(256) kiln_softmax_0(const float* __restrict__ X, float* __restrict__ softmax, float* __restrict__ max_1, float* __restrict__ sum) {
  {
    const long long max_i0_i1_o = blockIdx.x;
    {
      const long long max_i0_i1_i = threadIdx.x;
      {
        float max_acc[1];
        if ((((max_i0_i1_o * 256LL) + max_i0_i1_i) < 64LL)) {
          max_acc[0LL] = (-__int_as_float(0x7f800000));
        }
        for (long long max_r0 = 0; max_r0 < 1000LL; ++max_r0) {
          if ((((max_i0_i1_o * 256LL) + max_i0_i1_i) < 64LL)) {
            max_acc[0LL] = kiln_max(max_acc[0LL], X[(((max_i0_i1_o * 256000LL) + (max_i0_i1_i * 1000LL)) + max_r0)]);
          }
        }
        if ((((max_i0_i1_o * 256LL) + max_i0_i1_i) < 64LL)) {
          max_1[((max_i0_i1_o * 256LL) + max_i0_i1_i)] = max_acc[0LL];
        }
      }
    }
  }
}

extern "C" __global__ void __launch_bounds__(256) kiln_softmax_1(const float* __restrict__ X, float* __restrict__ softmax, float* __restrict__ max_1, float* __restrict__ sum) {
  {
    const long long sum_i0_i1_o = blockIdx.x;
    {
      const long long sum_i0_i1_i = threadIdx.x;
      {
        float sum_acc[1];
        if ((((sum_i0_i1_o * 256LL) + sum_i0_i1_i) < 64LL)) {
          sum_acc[0LL] = 0x0p+0f;
        }
        for (long long sum_r0 = 0; sum_r0 < 1000LL; ++sum_r0) {
          if ((((sum_i0_i1_o * 256LL) + sum_i0_i1_i) < 64LL)) {
            sum_acc[0LL] = (sum_acc[0LL] + expf((X[(((sum_i0_i1_o * 256000LL) + (sum_i0_i1_i * 1000LL)) + sum_r0)] - max_1[((sum_i0_i1_o * 256LL) + sum_i0_i1_i)])));
          }
        }
        if ((((sum_i0_i1_o * 256LL) + sum_i0_i1_i) < 64LL)) {
          sum[((sum_i0_i1_o * 256LL) + sum_i0_i1_i)] = sum_acc[0LL];
        }
      }
    }
  }
}

extern "C" __global__ void __launch_bounds__(256) kiln_softmax_2(const float* __restrict__ X, float* __restrict__ softmax, float* __restrict__ max_1, float* __restrict__ sum) {
  {
    const long long softmax_i0_i1_o = blockIdx.x;
    {
      const long long softmax_i0_i1_i = threadIdx.x;
      softmax[((softmax_i0_i1_o * 256LL) + softmax_i0_i1_i)] = (expf((X[((softmax_i0_i1_o * 256LL) + softmax_i0_i1_i)] - max_1[kiln_floordiv(((softmax_i0_i1_o * 256LL) + softmax_i0_i1_i), 1000LL)])) / sum[kiln_floordiv(((softmax_i0_i1_o * 256LL) + softmax_i0_i1_i), 1000LL)]);
    }
  }
}
