#include "core/runtime/host_tensor.h"

#include <cmath>
#include <new>

#include "core/ir/tensor.h"
#include "core/runtime/element_access.h"
#include "core/runtime/tensor_layout.h"
#include "core/support/error.h"

namespace kiln {

namespace {

constexpr std::align_val_t kAlignment{64};

/// Zeroed storage for `elements` elements, 64-byte aligned (a whole cache line, and what AVX-512
/// aligned loads want). Never empty, so data() is a valid pointer even for zero-size tensors.
std::shared_ptr<std::byte[]> allocate(int64_t elements, DType dtype) {
  size_t bytes = static_cast<size_t>(elements) * dtype_bytes(dtype);
  bytes = std::max<size_t>((bytes + 63) / 64 * 64, 64);
  auto* p = static_cast<std::byte*>(::operator new(bytes, kAlignment));
  std::memset(p, 0, bytes);
  return std::shared_ptr<std::byte[]>(p, [](std::byte* q) { ::operator delete(q, kAlignment); });
}

/// splitmix64: tiny, fast, and the same on every platform (std distributions are not).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  /// Uniform in [0, 1), 53 random bits.
  double uniform() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1p-53;
  }

 private:
  uint64_t state_;
};

/// Element position in storage (relative to `offset`) of a multi-index; Error when out of range.
int64_t element_position(const HostTensor& t, const std::vector<int64_t>& index) {
  if (index.size() != t.shape.size())
    throw Error(str_cat("HostTensor of shape ", dims_string(t.shape), " indexed with ",
                        index.size(), " indices"));
  int64_t pos = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    if (index[d] < 0 || index[d] >= t.shape[d])
      throw Error(str_cat("index ", dims_string(index), " out of bounds for HostTensor of shape ",
                          dims_string(t.shape)));
    pos += index[d] * t.strides[d];
  }
  return pos;
}

/// Element position of row-major element number `flat`; Error when out of range.
int64_t flat_position(const HostTensor& t, int64_t flat) {
  if (flat < 0 || flat >= t.numel())
    throw Error(str_cat("flat index ", flat, " out of bounds for HostTensor of shape ",
                        dims_string(t.shape)));
  int64_t pos = 0;
  for (size_t d = t.shape.size(); d-- > 0;) {
    pos += flat % t.shape[d] * t.strides[d];
    flat /= t.shape[d];
  }
  return pos;
}

double read(const HostTensor& t, int64_t pos) {
  auto* base = static_cast<const std::byte*>(t.data());
  return is_float(t.dtype) ? load_float(base, t.dtype, pos)
                           : static_cast<double>(load_int(base, t.dtype, pos));
}

void write(const HostTensor& t, int64_t pos, double value) {
  auto* base = static_cast<std::byte*>(t.data());
  if (is_float(t.dtype))
    store_float(base, t.dtype, pos, value);
  else
    store_int(base, t.dtype, pos, t.dtype == DType::Bool ? value != 0 : wrap_to_int64(value));
}

}  // namespace

HostTensor HostTensor::zeros(std::vector<int64_t> shape, DType dtype) {
  HostTensor t;
  t.dtype = dtype;
  t.strides = contiguous_strides(shape);
  t.shape = std::move(shape);
  t.storage_elements = t.numel();
  t.storage = allocate(t.storage_elements, dtype);
  return t;
}

HostTensor HostTensor::random(std::vector<int64_t> shape, DType dtype, uint64_t seed, double lo,
                              double hi, std::vector<int64_t> strides) {
  if (strides.empty()) strides = contiguous_strides(shape);
  if (strides.size() != shape.size())
    throw Error(str_cat("HostTensor::random: ", shape.size(), " dimensions but ", strides.size(),
                        " strides"));
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.strides = std::move(strides);
  for (int64_t s : t.strides)
    if (s < 0)
      throw Error(str_cat("HostTensor::random: negative stride in ", dims_string(t.strides)));
  // The storage spans exactly the elements the strides reach; stride-0 dimensions share them.
  t.storage_elements = storage_span(t.shape, t.strides);
  t.storage = allocate(t.storage_elements, dtype);
  Random rng(seed);
  auto* base = t.storage.get();
  for (int64_t i = 0; i < t.storage_elements; ++i) {
    double u = rng.uniform();
    if (dtype == DType::Bool)
      store_int(base, dtype, i, u < 0.5);
    else if (is_int(dtype))
      // Rounded down, so integers stay inside [lo, hi) and can serve as indices.
      store_int(base, dtype, i, static_cast<int64_t>(std::floor(lo + u * (hi - lo))));
    else
      store_float(base, dtype, i, lo + u * (hi - lo));
  }
  return t;
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

double HostTensor::get(const std::vector<int64_t>& index) const {
  return read(*this, element_position(*this, index));
}

void HostTensor::set(const std::vector<int64_t>& index, double value) {
  write(*this, element_position(*this, index), value);
}

double HostTensor::get_flat(int64_t flat) const {
  return read(*this, flat_position(*this, flat));
}

void HostTensor::set_flat(int64_t flat, double value) {
  write(*this, flat_position(*this, flat), value);
}

}  // namespace kiln
