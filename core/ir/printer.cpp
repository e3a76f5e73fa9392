// Text form of every IR type; golden tests and error messages are built on it.
#include <ostream>

#include "core/ir/stmt.h"
#include "core/support/error.h"

namespace kiln {

namespace {

void print_list(std::ostream& os, const std::vector<Expr>& xs) {
  for (size_t i = 0; i < xs.size(); ++i) os << (i ? ", " : "") << xs[i];
}

void print_axes(std::ostream& os, const std::vector<IterVar>& axes) {
  for (size_t i = 0; i < axes.size(); ++i)
    os << (i ? ", " : "") << axes[i].var.name() << ":" << axes[i].extent;
}

void print_dims(std::ostream& os, const std::vector<int64_t>& dims) {
  os << "[";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << "]";
}

class StmtPrinter {
 public:
  explicit StmtPrinter(std::ostream& os) : os_(os) {}

  void print(const Stmt& s) {
    switch (s.kind()) {
      case StmtKind::For: {
        auto* n = s.as<ForNode>();
        line() << "for " << n->var.name() << " in 0.." << n->extent;
        if (n->for_kind != ForKind::Serial) os_ << " " << n->for_kind;
        if (n->for_kind == ForKind::GpuBlock || n->for_kind == ForKind::GpuThread)
          os_ << "." << "xyz"[n->thread_axis];
        block(n->body);
        return;
      }
      case StmtKind::Store: {
        auto* n = s.as<StoreNode>();
        line() << n->tensor->name << "[";
        print_list(os_, n->indices);
        os_ << "] = " << n->value << "\n";
        return;
      }
      case StmtKind::Allocate: {
        auto* n = s.as<AllocateNode>();
        line() << "allocate " << n->tensor->name << ": " << n->tensor->dtype;
        print_dims(os_, n->tensor->shape);
        static constexpr const char* scopes[] = {" local", " shared", " global"};
        os_ << scopes[static_cast<int>(n->scope)];
        block(n->body);
        return;
      }
      case StmtKind::Seq:
        for (auto& x : s.as<SeqNode>()->stmts) print(x);
        return;
      case StmtKind::IfThenElse: {
        auto* n = s.as<IfThenElseNode>();
        line() << "if " << n->cond;
        block(n->then_case);
        if (n->else_case.defined()) {
          line() << "else";
          block(n->else_case);
        }
        return;
      }
    }
  }

 private:
  std::ostream& line() { return os_ << std::string(2 * depth_, ' '); }
  void block(const Stmt& body) {
    os_ << " {\n";
    ++depth_;
    print(body);
    --depth_;
    line() << "}\n";
  }
  std::ostream& os_;
  int depth_ = 0;
};

}  // namespace

std::ostream& operator<<(std::ostream& os, const Expr& e) {
  if (!e.defined()) return os << "<undefined>";
  switch (e.kind()) {
    case ExprKind::IntImm: {
      auto* n = e.as<IntImmNode>();
      if (n->dtype == DType::Bool) return os << (n->value ? "true" : "false");
      os << n->value;
      return n->dtype == DType::I64 ? os : os << n->dtype;
    }
    case ExprKind::FloatImm: {
      auto* n = e.as<FloatImmNode>();
      return os << n->value << (n->dtype == DType::F32 ? "f" : str_cat("_", n->dtype));
    }
    case ExprKind::Var: return os << e.as<VarNode>()->name;
    case ExprKind::Binary: {
      auto* n = e.as<BinaryNode>();
      switch (n->op) {
        case BinaryOp::FloorDiv:
        case BinaryOp::FloorMod:
        case BinaryOp::Min:
        case BinaryOp::Max:
        case BinaryOp::Pow:
        case BinaryOp::Atan2:
        case BinaryOp::Hypot:
        case BinaryOp::Copysign:
        case BinaryOp::Zeta: return os << n->op << "(" << n->a << ", " << n->b << ")";
        default: return os << "(" << n->a << " " << n->op << " " << n->b << ")";
      }
    }
    case ExprKind::Unary: {
      auto* n = e.as<UnaryNode>();
      if (n->op == UnaryOp::Neg) return os << "-" << n->a;
      if (n->op == UnaryOp::Not) return os << "!" << n->a;
      return os << n->op << "(" << n->a << ")";
    }
    case ExprKind::Select: {
      auto* n = e.as<SelectNode>();
      return os << "select(" << n->cond << ", " << n->true_value << ", " << n->false_value << ")";
    }
    case ExprKind::Cast: return os << e.dtype() << "(" << e.as<CastNode>()->value << ")";
    case ExprKind::Load: {
      auto* n = e.as<LoadNode>();
      os << n->tensor->name << "[";
      print_list(os, n->indices);
      return os << "]";
    }
    case ExprKind::Reduce: {
      auto* n = e.as<ReduceNode>();
      os << n->op << "(" << n->source << ", axes=[";
      print_axes(os, n->axes);
      return os << "])";
    }
  }
  return os;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "<undefined tensor>";
  for (auto& x : topo_order({t})) {
    if (x->kind == TensorKind::Placeholder) {
      os << "placeholder " << x->name << ": " << x->dtype;
      print_dims(os, x->shape);
      if (x->strides != contiguous_strides(x->shape)) {
        os << " strides ";
        print_dims(os, x->strides);
      }
    } else {
      os << (x->is_scan()      ? "scan "
             : x->is_scatter() ? "scatter "
                               : "compute ")
         << x->name << ": " << x->dtype;
      print_dims(os, x->shape);
      if (x->is_scan()) os << " along " << x->scan_axis << " (prev: " << x->state->name << ")";
      os << " (";
      print_axes(os, x->axes);
      os << ") = " << x->body;
      for (const ScatterUpdate& update : x->updates) {
        os << "\n  then (";
        print_axes(os, update.axes);
        os << ") " << x->name << "[";
        for (size_t d = 0; d < update.target.size(); ++d) os << (d ? ", " : "") << update.target[d];
        os << "] = " << update.value << " (old: " << x->state->name << ")";
      }
    }
    os << "\n";
  }
  return os;
}

std::ostream& operator<<(std::ostream& os, ForKind k) {
  return os << for_kind_name(k);
}

std::ostream& operator<<(std::ostream& os, const Stmt& s) {
  if (!s.defined()) return os << "<undefined stmt>\n";
  StmtPrinter(os).print(s);
  return os;
}

std::ostream& operator<<(std::ostream& os, const LoweredFunc& f) {
  os << "func " << f.name << "(";
  for (size_t i = 0; i < f.params.size(); ++i) {
    auto& p = f.params[i];
    os << (i ? ", " : "") << (static_cast<int>(i) < f.num_inputs ? "" : "out ") << p->name << ": "
       << p->dtype;
    print_dims(os, p->shape);
    // NOTE: the strides are part of the function: a kernel reads exactly this layout, and the
    // printed function keys the compiled-code cache.
    if (p->strides != contiguous_strides(p->shape)) {
      os << " strides ";
      print_dims(os, p->strides);
    }
  }
  os << ")";
  for (const PreparedBuffer& b : f.prepared) {
    os << (&b == f.prepared.data() ? " prepares " : ", ") << b.buffer->name << ": "
       << b.buffer->dtype;
    print_dims(os, b.buffer->shape);
    os << " from";
    for (int i : b.inputs) os << " " << f.params[i]->name;
  }
  os << " {\n" << f.body << "}\n";
  return os;
}

}  // namespace kiln
