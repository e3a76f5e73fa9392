// Comparing results against the reference, with PyTorch's notion of "close".
#include <cmath>
#include <limits>

#include "core/runtime/host_tensor.h"
#include "core/runtime/tensor_layout.h"
#include "core/support/error.h"

namespace kiln {

double max_relative_error(const HostTensor& a, const HostTensor& b, double atol, double rtol) {
  if (a.shape != b.shape)
    throw Error(str_cat("cannot compare tensors of shapes ", dims_string(a.shape), " and ",
                        dims_string(b.shape)));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double worst = 0;
  int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    double x = a.get_flat(i), y = b.get_flat(i);
    if (std::isnan(x) || std::isnan(y)) {
      if (std::isnan(x) != std::isnan(y)) return kInf;
      continue;
    }
    if (x == y) continue;  // Also equal infinities.
    if (std::isinf(x) || std::isinf(y)) return kInf;
    double allowed = atol + rtol * std::fabs(y);
    worst = std::max(worst, allowed > 0 ? std::fabs(x - y) / allowed : kInf);
  }
  return worst;
}

void default_tolerance(DType dtype, double* atol, double* rtol) {
  switch (dtype) {
    case DType::F16: *atol = 1e-5, *rtol = 1e-3; return;
    case DType::BF16: *atol = 1e-5, *rtol = 1.6e-2; return;
    case DType::F32: *atol = 1e-5, *rtol = 1.3e-6; return;
    case DType::F64: *atol = 1e-7, *rtol = 1e-7; return;
    case DType::Bool:
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64: *atol = 0, *rtol = 0; return;
  }
  KILN_CHECK(false, "unknown dtype");
}

}  // namespace kiln
