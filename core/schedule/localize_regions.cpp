// The pass localize_region_buffers (lowering_passes.h): a stage computed inside another stage's
// loop is stored into a buffer holding just the region that loop reads; here the loads of that
// stage inside the buffer's allocation are made to read the buffer, at indices relative to the
// region's start.
#include <unordered_map>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/lowering_passes.h"

namespace kiln {

namespace {

class Localizer : public StmtMutator {
 public:
  explicit Localizer(const std::vector<RegionBuffer>& regions) {
    for (const RegionBuffer& r : regions) of_buffer_[r.buffer.get()] = &r;
  }

 protected:
  Stmt mutate_allocate(const Stmt& s, const AllocateNode* n) override {
    auto it = of_buffer_.find(n->tensor.get());
    if (it == of_buffer_.end()) return StmtMutator::mutate_allocate(s, n);
    const TensorNode* tensor = it->second->tensor.get();
    const RegionBuffer* outer = in_scope_[tensor];
    in_scope_[tensor] = it->second;
    Stmt result = StmtMutator::mutate_allocate(s, n);
    in_scope_[tensor] = outer;
    return result;
  }

  Expr mutate_load(const Expr& e, const LoadNode* n) override {
    Expr r = StmtMutator::mutate_load(e, n);
    auto* load = r.as<LoadNode>();
    auto it = in_scope_.find(load->tensor.get());
    if (it == in_scope_.end() || !it->second) return r;
    const RegionBuffer& region = *it->second;
    std::vector<Expr> relative;
    for (size_t d = 0; d < load->indices.size(); ++d)
      relative.push_back(simplify(load->indices[d] - region.mins[d]));
    std::vector<Expr> idx = relative;
    if (!region.order.empty()) {
      idx.clear();
      for (int d : region.order) idx.push_back(relative[d]);
    }
    return LoadNode::make(region.buffer, std::move(idx));
  }

 private:
  std::unordered_map<const TensorNode*, const RegionBuffer*> of_buffer_;
  std::unordered_map<const TensorNode*, const RegionBuffer*> in_scope_;
};

}  // namespace

LoweredFunc localize_region_buffers(LoweredFunc f) {
  if (f.regions.empty()) return f;
  f.body = Localizer(f.regions).mutate(f.body);
  f.regions.clear();
  return f;
}

}  // namespace kiln
