#include "core/ops/type_promotion.h"

#include <optional>

namespace kiln {

PromotionOperand operand_of(const Tensor& t) {
  return {t->dtype, t->rank() == 0 ? PromotionOperand::kZeroDimTensor : PromotionOperand::kTensor};
}

PromotionOperand operand_of(const Scalar& s) {
  // A Python float is wrapped as a tensor of the default dtype.
  return {s.dtype == DType::F64 ? DType::F32 : s.dtype, PromotionOperand::kScalar};
}

namespace {

using Maybe = std::optional<DType>;

Maybe promote(Maybe a, Maybe b) {
  if (!a) return b;
  if (!b) return a;
  return promote_types(*a, *b);
}

// c10's combine_categories: the higher-priority state wins unless the lower one is of a higher
// category.
Maybe combine_categories(Maybe higher, Maybe lower) {
  if (higher && is_float(*higher)) return higher;
  if ((higher && *higher == DType::Bool) || (lower && is_float(*lower)))
    return promote(higher, lower);
  return higher ? higher : lower;
}

}  // namespace

DType result_type(const std::vector<PromotionOperand>& operands) {
  Maybe dim, zero, wrapped;
  for (auto& o : operands) {
    Maybe& state = o.kind == PromotionOperand::kTensor          ? dim
                   : o.kind == PromotionOperand::kZeroDimTensor ? zero
                                                                : wrapped;
    state = promote(state, o.dtype);
  }
  Maybe r = combine_categories(dim, combine_categories(zero, wrapped));
  KILN_CHECK(r.has_value(), "result_type of no operands");
  return *r;
}

DType float_result(DType t) {
  return is_float(t) ? t : DType::F32;
}

}  // namespace kiln
