#include "core/ops/advanced_index.h"

#include <algorithm>

#include "core/ops/broadcast.h"
#include "core/ops/index_guard.h"

namespace kiln {

AdvancedIndex::AdvancedIndex(const OpArgs& a, const Tensor& x, int arg)
    : x_(x), indices_(a.optional_tensors(arg)) {
  if (static_cast<int64_t>(indices_.size()) > x->rank())
    throw a.error(arg, str_cat("has ", indices_.size(), " entries for a tensor of shape ",
                               shape_str(x->shape)));
  std::vector<std::vector<int64_t>> shapes;
  for (size_t d = 0; d < indices_.size(); ++d) {
    if (!indices_[d].defined()) continue;
    if (indices_[d]->dtype == DType::Bool)
      throw a.error(arg, "holds a boolean mask, whose result shape depends on its values");
    if (!is_int(indices_[d]->dtype))
      throw a.error(arg, str_cat("holds a ", indices_[d]->dtype, " tensor, expected i64 or i32"));
    if (x->shape[d] == 0) throw a.error(0, str_cat("has an empty dimension ", d));
    indexed_.push_back(static_cast<int64_t>(d));
    shapes.push_back(indices_[d]->shape);
  }
  if (indexed_.empty()) throw a.error(arg, "holds no index tensor");
  std::vector<int64_t> b = broadcast_shapes(a, shapes);
  bool adjacent = indexed_.back() - indexed_.front() + 1 == static_cast<int64_t>(indexed_.size());
  at_ = adjacent ? indexed_.front() : 0;
  rank_b_ = static_cast<int64_t>(b.size());
  for (int64_t d = 0; d < x->rank(); ++d)
    if (std::find(indexed_.begin(), indexed_.end(), d) == indexed_.end()) kept_.push_back(d);
  for (int64_t d : kept_) shape_.push_back(x->shape[d]);
  shape_.insert(shape_.begin() + at_, b.begin(), b.end());
}

std::vector<Expr> AdvancedIndex::source(const std::vector<Var>& i) const {
  std::vector<Var> in_b(i.begin() + at_, i.begin() + at_ + rank_b_);
  std::vector<Expr> from(x_->rank());
  for (size_t k = 0; k < kept_.size(); ++k) {
    int64_t position = static_cast<int64_t>(k) < at_ ? k : k + rank_b_;
    from[kept_[k]] = i[position];
  }
  for (int64_t d : indexed_) {
    Expr v = cast(DType::I64, load_broadcast(indices_[d], in_b));
    from[d] = clamp_index(select(v < 0, v + x_->shape[d], v), x_->shape[d]);
  }
  return from;
}

std::vector<ValueCheck> AdvancedIndex::checks(int arg) const {
  std::vector<ValueCheck> result;
  for (int64_t d : indexed_)
    result.push_back({ValueCheck::Rule::Wrapped, arg, x_->shape[d], d, static_cast<int>(d)});
  return result;
}

}  // namespace kiln
