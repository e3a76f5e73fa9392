#include "core/ir/tensor.h"

#include <ostream>
#include <unordered_set>

#include "core/ir/functor.h"
#include "core/ir/validate.h"
#include "core/support/error.h"

namespace kiln {

int64_t TensorNode::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = s;
    s *= std::max<int64_t>(shape[d], 1);
  }
  return strides;
}

static void check_shape(const std::string& name, const std::vector<int64_t>& shape) {
  for (int64_t s : shape)
    if (s < 0) throw IRError(str_cat("tensor '", name, "' has negative size ", s));
}

Tensor placeholder(std::string name, std::vector<int64_t> shape, DType dtype,
                   std::vector<int64_t> strides) {
  check_shape(name, shape);
  if (strides.empty()) strides = contiguous_strides(shape);
  if (strides.size() != shape.size())
    throw IRError(str_cat("placeholder '", name, "' has ", shape.size(), " dimensions but ",
                          strides.size(), " strides"));
  for (int64_t s : strides)
    if (s < 0) throw IRError(str_cat("placeholder '", name, "' has negative stride ", s));
  auto node = std::make_shared<TensorNode>();
  node->kind = TensorKind::Placeholder;
  node->name = std::move(name);
  node->dtype = dtype;
  node->shape = std::move(shape);
  node->strides = std::move(strides);
  return Tensor(std::move(node));
}

namespace {

/// A compute node of `shape` with its axes, body not yet set.
std::shared_ptr<TensorNode> compute_node(std::string name, std::vector<int64_t> shape) {
  check_shape(name, shape);
  auto node = std::make_shared<TensorNode>();
  node->kind = TensorKind::Compute;
  node->name = std::move(name);
  node->strides = contiguous_strides(shape);
  for (size_t d = 0; d < shape.size(); ++d)
    node->axes.push_back(IterVar{Var(str_cat(node->name, ".ax", d)), shape[d]});
  node->shape = std::move(shape);
  return node;
}

std::vector<Var> axis_vars(const TensorNode& node) {
  std::vector<Var> vars;
  for (auto& ax : node.axes) vars.push_back(ax.var);
  return vars;
}

Tensor finish(std::shared_ptr<TensorNode> node) {
  if (!node->body.defined()) throw IRError(str_cat("compute '", node->name, "' has no body"));
  node->dtype = node->body.dtype();
  Tensor t(std::move(node));
  validate({t});
  return t;
}

}  // namespace

Tensor compute(std::string name, std::vector<int64_t> shape,
               const std::function<Expr(const std::vector<Var>& axes)>& body) {
  auto node = compute_node(std::move(name), std::move(shape));
  node->body = body(axis_vars(*node));
  return finish(std::move(node));
}

Tensor scan(std::string name, std::vector<int64_t> shape, int axis,
            const std::function<Expr(const std::vector<Var>& axes)>& first,
            const std::function<Expr(const std::vector<Var>& axes, const Expr& prev)>& step) {
  if (axis < 0 || axis >= static_cast<int>(shape.size()))
    throw IRError(str_cat("scan '", name, "': axis ", axis, " out of range for ", shape.size(),
                          " dimensions"));
  auto node = compute_node(std::move(name), std::move(shape));
  std::vector<Var> i = axis_vars(*node);
  Expr start = first(i);
  if (!start.defined()) throw IRError(str_cat("scan '", node->name, "' has no first value"));
  node->scan_axis = axis;
  node->state = placeholder(node->name + ".prev", node->shape, start.dtype());
  std::vector<Expr> back(i.begin(), i.end());
  back[axis] = i[axis] - int64_t{1};
  Expr next = step(i, node->state.load(back));
  if (!next.defined() || next.dtype() != start.dtype())
    throw IRError(str_cat("scan '", node->name, "': its step must give ", start.dtype(),
                          " like its first value"));
  node->body = select(i[axis] == int64_t{0}, start, next);
  return finish(std::move(node));
}

Tensor scatter(std::string name, std::vector<int64_t> shape,
               const std::function<Expr(const std::vector<Var>& axes)>& init,
               const std::vector<ScatterUpdateDef>& updates) {
  if (updates.empty()) throw IRError(str_cat("scatter '", name, "' has no update"));
  auto node = compute_node(std::move(name), std::move(shape));
  node->body = init(axis_vars(*node));
  if (!node->body.defined()) throw IRError(str_cat("scatter '", node->name, "' has no init"));
  if (node->body.as<ReduceNode>())
    throw IRError(str_cat("scatter '", node->name, "': its init may not be a reduction"));
  DType dtype = node->body.dtype();
  node->state = placeholder(node->name + ".old", node->shape, dtype);
  for (size_t u = 0; u < updates.size(); ++u) {
    const ScatterUpdateDef& def = updates[u];
    check_shape(node->name, def.domain);
    ScatterUpdate update;
    std::vector<Var> point;
    for (size_t d = 0; d < def.domain.size(); ++d) {
      point.push_back(Var(str_cat(node->name, ".u", u, ".", d)));
      update.axes.push_back(IterVar{point.back(), def.domain[d]});
    }
    update.target = def.target(point);
    if (update.target.size() != node->shape.size())
      throw IRError(str_cat("scatter '", node->name, "': update ", u, " has ", update.target.size(),
                            " target indices for ", node->shape.size(), " dimensions"));
    for (const Expr& index : update.target)
      if (!index.defined() || !is_int(index.dtype()))
        throw IRError(str_cat("scatter '", node->name, "': update ", u,
                              " has a target index that is not an integer"));
    update.value = def.value(point, node->state.load(update.target));
    if (!update.value.defined() || update.value.dtype() != dtype)
      throw IRError(str_cat("scatter '", node->name, "': update ", u, " must give ", dtype,
                            " like its init"));
    node->updates.push_back(std::move(update));
  }
  return finish(std::move(node));
}

namespace {
class LoadCollector : public ExprVisitor {
 public:
  std::vector<Tensor> tensors;

 protected:
  void visit_load(const LoadNode* n) override {
    if (seen_.insert(n->tensor.get()).second) tensors.push_back(n->tensor);
    ExprVisitor::visit_load(n);
  }

 private:
  std::unordered_set<const TensorNode*> seen_;
};
}  // namespace

std::vector<Tensor> input_tensors(const Tensor& t) {
  if (t->kind != TensorKind::Compute) return {};
  LoadCollector c;
  c.visit(t->body);
  for (const ScatterUpdate& update : t->updates) {
    for (const Expr& index : update.target) c.visit(index);
    c.visit(update.value);
  }
  if (t->state.defined())
    std::erase_if(c.tensors, [&](const Tensor& x) { return x.same_as(t->state); });
  return c.tensors;
}

bool updates_read(const Tensor& t, const TensorNode* from) {
  for (const ScatterUpdate& update : t->updates) {
    if (reads(update.value, from)) return true;
    for (const Expr& index : update.target)
      if (reads(index, from)) return true;
  }
  return false;
}

std::vector<Tensor> topo_order(const std::vector<Tensor>& outputs) {
  std::vector<Tensor> order;
  std::unordered_set<const TensorNode*> done;
  // Iterative post-order DFS: deep producer chains (long fused graphs) must not overflow the stack.
  std::vector<std::pair<Tensor, bool>> stack;
  for (auto it = outputs.rbegin(); it != outputs.rend(); ++it) stack.emplace_back(*it, false);
  while (!stack.empty()) {
    auto [t, expanded] = stack.back();
    stack.pop_back();
    if (done.count(t.get())) continue;
    if (expanded) {
      done.insert(t.get());
      order.push_back(t);
      continue;
    }
    stack.emplace_back(t, true);
    auto inputs = input_tensors(t);
    for (auto it = inputs.rbegin(); it != inputs.rend(); ++it)
      if (!done.count(it->get())) stack.emplace_back(*it, false);
  }
  return order;
}

std::vector<Tensor> placeholders_of(const std::vector<Tensor>& outputs) {
  std::vector<Tensor> result;
  for (auto& t : topo_order(outputs))
    if (t->kind == TensorKind::Placeholder) result.push_back(t);
  return result;
}

}  // namespace kiln
