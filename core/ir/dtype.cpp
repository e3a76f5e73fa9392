#include "core/ir/dtype.h"

#include <limits>
#include <ostream>

#include "core/support/error.h"

namespace kiln {

int dtype_bytes(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::I8: return 1;
    case DType::I16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::F32: return 4;
    case DType::F64: return 8;
  }
  KILN_CHECK(false, "unknown dtype");
}

bool is_float(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64;
}

bool is_int(DType t) {
  return t == DType::I8 || t == DType::I16 || t == DType::I32 || t == DType::I64;
}

int64_t int_min(DType t) {
  switch (t) {
    case DType::I8: return std::numeric_limits<int8_t>::min();
    case DType::I16: return std::numeric_limits<int16_t>::min();
    case DType::I32: return std::numeric_limits<int32_t>::min();
    case DType::I64: return std::numeric_limits<int64_t>::min();
    default: KILN_CHECK(false, "int_min of non-integer dtype ", dtype_name(t));
  }
}

int64_t int_max(DType t) {
  return -(int_min(t) + 1);  // two's complement; int_min + 1 negates without overflow
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::I8: return "i8";
    case DType::I16: return "i16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::F32: return "f32";
    case DType::F64: return "f64";
  }
  KILN_CHECK(false, "unknown dtype");
}

DType dtype_from_name(std::string_view name) {
  for (DType t : {DType::Bool, DType::I8, DType::I16, DType::I32, DType::I64, DType::F16,
                  DType::BF16, DType::F32, DType::F64})
    if (dtype_name(t) == name) return t;
  throw IRError(str_cat("unknown dtype name '", name, "'"));
}

namespace {

/// Position in PyTorch's promotion order: bool < integers by width < floats.
int promotion_rank(DType t) {
  switch (t) {
    case DType::Bool: return 0;
    case DType::I8: return 1;
    case DType::I16: return 2;
    case DType::I32: return 3;
    case DType::I64: return 4;
    case DType::F16: return 5;
    case DType::BF16: return 6;
    case DType::F32: return 7;
    case DType::F64: return 8;
  }
  KILN_CHECK(false, "unknown dtype");
}

}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  // f16 and bf16 have no common 16-bit type: PyTorch promotes the pair to f32.
  if ((a == DType::F16 && b == DType::BF16) || (a == DType::BF16 && b == DType::F16))
    return DType::F32;
  return promotion_rank(a) > promotion_rank(b) ? a : b;
}

DType compute_type(DType t) {
  return t == DType::F16 || t == DType::BF16 ? DType::F32 : t;
}

std::ostream& operator<<(std::ostream& os, DType t) {
  return os << dtype_name(t);
}

}  // namespace kiln
