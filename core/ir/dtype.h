// Element types of tensors and expressions.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace kiln {

/// Element type. The numbering is part of every structural hash (workload keys of stored tuning
/// records): new types go at the end; promote_types ranks them by PyTorch's promotion order.
enum class DType : uint8_t { Bool, I32, I64, F16, BF16, F32, F64, I8, I16 };

int dtype_bytes(DType t);
bool is_float(DType t);
bool is_int(DType t);  ///< I8, I16, I32 or I64 (Bool is its own category).
/// The least and greatest values of integer dtype `t`.
int64_t int_min(DType t);
int64_t int_max(DType t);
std::string_view dtype_name(DType t);
/// Parses a name printed by dtype_name ("f32", "i64", ...); throws IRError on an unknown name.
DType dtype_from_name(std::string_view name);
/// PyTorch's result type for two tensor operands of equal standing.
DType promote_types(DType a, DType b);
/// The type arithmetic in a kernel is done in: f16/bf16 compute in f32, like PyTorch's CPU kernels.
DType compute_type(DType t);
std::ostream& operator<<(std::ostream& os, DType t);

}  // namespace kiln
