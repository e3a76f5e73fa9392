// A strided array in host memory: what kernels and the interpreter read and write in tests,
// examples and benchmarks (the plugin hands kernels PyTorch's own data pointers instead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/ir/dtype.h"

namespace kiln {

struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  ///< In elements; may be 0 (broadcast) or non-row-major.
  std::shared_ptr<std::byte[]> storage;
  int64_t storage_elements = 0;
  int64_t offset = 0;  ///< In elements, into storage.

  /// A zero-filled row-major tensor, 64-byte aligned.
  static HostTensor zeros(std::vector<int64_t> shape, DType dtype);
  /// Uniform random values in [lo, hi) (integers: rounded; bool: fair coin), reproducible by seed.
  /// With `strides`, the storage is laid out to fit them (e.g. a transposed view).
  static HostTensor random(std::vector<int64_t> shape, DType dtype, uint64_t seed, double lo = -1,
                           double hi = 1, std::vector<int64_t> strides = {});

  int64_t numel() const;
  void* data() const { return storage.get() + offset * dtype_bytes(dtype); }
  /// Element at a multi-index, converted to double.
  double get(const std::vector<int64_t>& index) const;
  void set(const std::vector<int64_t>& index, double value);
  /// Element number `flat` in row-major order of the logical shape.
  double get_flat(int64_t flat) const;
  void set_flat(int64_t flat, double value);
};

/// Converts a double to the value a `dtype` element holds (rounding f16/bf16/f32, wrapping ints).
double round_to_dtype(double v, DType dtype);

/// Largest |a - b| / (atol + rtol * |b|) over all elements: <= 1 means "close" as in
/// torch.testing.assert_close; NaNs must match NaNs. Throws Error when shapes differ.
double max_relative_error(const HostTensor& a, const HostTensor& b, double atol, double rtol);

/// PyTorch's default tolerances for comparing results of `dtype`.
void default_tolerance(DType dtype, double* atol, double* rtol);

}  // namespace kiln
