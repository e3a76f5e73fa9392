// Structural equality and hashing share one canonical serialization, so they can never disagree:
// a program becomes a token stream in which variables and tensors are numbered by first binding.
#include "core/ir/structural.h"

#include <cstring>
#include <unordered_map>

#include "core/support/error.h"

namespace kiln {

namespace {

enum Tag : uint64_t {
  kExpr = 1,
  kBoundVar,
  kFreeVar,
  kTensorRef,
  kPlaceholder,
  kCompute,
  kStmt,
  kUndefined,
  kEnd,
  kScan,  // appended: the hashes of workloads without scans stay as they were
  kScatter,
};

class Serializer {
 public:
  std::vector<uint64_t> tokens;

  void tensor_program(const std::vector<Tensor>& outputs) {
    for (auto& t : topo_order(outputs)) define_tensor(t);
    for (auto& t : outputs) tensor_ref(t);
  }

  void expr(const Expr& e) {
    if (!e.defined()) return push(kUndefined);
    push(kExpr, static_cast<uint64_t>(e.kind()), static_cast<uint64_t>(e.dtype()));
    switch (e.kind()) {
      case ExprKind::IntImm: return push(static_cast<uint64_t>(e.as<IntImmNode>()->value));
      case ExprKind::FloatImm: {
        uint64_t bits;
        double v = e.as<FloatImmNode>()->value;
        std::memcpy(&bits, &v, sizeof bits);
        return push(bits);
      }
      case ExprKind::Var: return var_ref(e.as<VarNode>());
      case ExprKind::Binary: {
        auto* n = e.as<BinaryNode>();
        push(static_cast<uint64_t>(n->op));
        expr(n->a);
        return expr(n->b);
      }
      case ExprKind::Unary: {
        auto* n = e.as<UnaryNode>();
        push(static_cast<uint64_t>(n->op));
        return expr(n->a);
      }
      case ExprKind::Select: {
        auto* n = e.as<SelectNode>();
        expr(n->cond);
        expr(n->true_value);
        return expr(n->false_value);
      }
      case ExprKind::Cast: return expr(e.as<CastNode>()->value);
      case ExprKind::Load: {
        auto* n = e.as<LoadNode>();
        tensor_ref(n->tensor);
        for (auto& i : n->indices) expr(i);
        return push(kEnd);
      }
      case ExprKind::Reduce: {
        auto* n = e.as<ReduceNode>();
        push(static_cast<uint64_t>(n->op), n->axes.size());
        for (auto& ax : n->axes) bind(ax.var, ax.extent);
        return expr(n->source);
      }
    }
  }

  void stmt(const Stmt& s) {
    if (!s.defined()) return push(kUndefined);
    push(kStmt, static_cast<uint64_t>(s.kind()));
    switch (s.kind()) {
      case StmtKind::For: {
        auto* n = s.as<ForNode>();
        push(static_cast<uint64_t>(n->for_kind), static_cast<uint64_t>(n->thread_axis));
        bind(n->var, n->extent);
        return stmt(n->body);
      }
      case StmtKind::Store: {
        auto* n = s.as<StoreNode>();
        tensor_ref(n->tensor);
        for (auto& i : n->indices) expr(i);
        return expr(n->value);
      }
      case StmtKind::Allocate: {
        auto* n = s.as<AllocateNode>();
        push(static_cast<uint64_t>(n->scope));
        tensor_ref(n->tensor);
        return stmt(n->body);
      }
      case StmtKind::Seq: {
        auto* n = s.as<SeqNode>();
        push(n->stmts.size());
        for (auto& x : n->stmts) stmt(x);
        return;
      }
      case StmtKind::IfThenElse: {
        auto* n = s.as<IfThenElseNode>();
        expr(n->cond);
        stmt(n->then_case);
        return stmt(n->else_case);
      }
    }
  }

 private:
  template <typename... T>
  void push(T... xs) {
    (tokens.push_back(static_cast<uint64_t>(xs)), ...);
  }

  void bind(const Var& v, int64_t extent) {
    vars_[v.get()] = vars_.size();
    push(kBoundVar, static_cast<uint64_t>(v.dtype()), static_cast<uint64_t>(extent));
  }

  void var_ref(const VarNode* v) {
    auto it = vars_.find(v);
    if (it != vars_.end()) return push(kBoundVar, it->second);
    // A free variable (in a bare expression) is numbered at first sight, so x+y equals a+b.
    size_t id = vars_.size();
    vars_[v] = id;
    push(kFreeVar, id);
  }

  void describe(const TensorNode* t) {
    push(static_cast<uint64_t>(t->kind), static_cast<uint64_t>(t->dtype), t->shape.size());
    for (size_t d = 0; d < t->shape.size(); ++d)
      push(static_cast<uint64_t>(t->shape[d]), static_cast<uint64_t>(t->strides[d]));
  }

  void define_tensor(const Tensor& t) {
    tensors_[t.get()] = tensors_.size();
    push(t->kind == TensorKind::Placeholder ? kPlaceholder : kCompute);
    describe(t.get());
    if (t->kind == TensorKind::Compute) {
      for (auto& ax : t->axes) bind(ax.var, ax.extent);
      if (t->is_scan()) {
        push(kScan, static_cast<uint64_t>(t->scan_axis));
        tensor_ref(t->state);
      }
      expr(t->body);
      if (t->is_scatter()) {
        push(kScatter, t->updates.size());
        tensor_ref(t->state);
        for (const ScatterUpdate& update : t->updates) {
          push(update.axes.size());
          for (auto& ax : update.axes) bind(ax.var, ax.extent);
          for (const Expr& index : update.target) expr(index);
          expr(update.value);
        }
      }
    }
  }

  // In loop IR a tensor is described at first use; in a tensor program it was defined before.
  void tensor_ref(const Tensor& t) {
    auto it = tensors_.find(t.get());
    if (it != tensors_.end()) return push(kTensorRef, it->second);
    tensors_[t.get()] = tensors_.size();
    push(kTensorRef, tensors_.size() - 1);
    describe(t.get());
  }

  std::unordered_map<const VarNode*, uint64_t> vars_;
  std::unordered_map<const TensorNode*, uint64_t> tensors_;
};

uint64_t hash_tokens(const std::vector<uint64_t>& tokens) {
  // FNV-1a over 64-bit words with a final avalanche (splitmix64): stable across runs and builds,
  // which a persistent tuning-cache key must be.
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t t : tokens) {
    h ^= t;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

template <typename T>
std::vector<uint64_t> serialize(const T& x) {
  Serializer s;
  if constexpr (std::is_same_v<T, std::vector<Tensor>>)
    s.tensor_program(x);
  else if constexpr (std::is_same_v<T, Expr>)
    s.expr(x);
  else
    s.stmt(x);
  return s.tokens;
}

}  // namespace

uint64_t structural_hash(const std::vector<Tensor>& outputs) {
  return hash_tokens(serialize(outputs));
}
std::vector<uint64_t> structural_tokens(const std::vector<Tensor>& outputs) {
  return serialize(outputs);
}
bool structural_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  return serialize(a) == serialize(b);
}
uint64_t structural_hash(const Expr& e) {
  return hash_tokens(serialize(e));
}
bool structural_equal(const Expr& a, const Expr& b) {
  return serialize(a) == serialize(b);
}
uint64_t structural_hash(const Stmt& s) {
  return hash_tokens(serialize(s));
}
bool structural_equal(const Stmt& a, const Stmt& b) {
  return serialize(a) == serialize(b);
}

}  // namespace kiln
