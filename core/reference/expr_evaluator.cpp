#include "core/reference/expr_evaluator.h"

#include <cmath>
#include <memory>

#include "core/reference/scalar_ops.h"
#include "core/runtime/element_access.h"
#include "core/runtime/tensor_layout.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// A compiled load: where the buffer is and how each index is computed. Most indices are plain
/// variables, which read their slot directly instead of calling a closure.
struct LoadPlan {
  const TensorNode* consumer;
  const TensorNode* tensor;
  const std::byte* data;
  DType dtype;
  std::vector<int64_t> strides;  ///< The buffer's, which for inputs may differ from the IR's.
  std::vector<int> index_slot;   ///< Slot of a plain-variable index, else -1.
  std::vector<IntCode> index_code;

  int64_t index(size_t d, const int64_t* slots) const {
    return index_slot[d] >= 0 ? slots[index_slot[d]] : index_code[d](slots);
  }

  /// Element position of the load at the current point; Error when it is out of bounds.
  int64_t position(const int64_t* slots) const {
    int64_t pos = 0;
    for (size_t d = 0; d < strides.size(); ++d) {
      int64_t i = index(d, slots);
      if (i < 0 || i >= tensor->shape[d]) throw_out_of_bounds(slots);
      pos += i * strides[d];
    }
    return pos;
  }

  [[noreturn]] void throw_out_of_bounds(const int64_t* slots) const {
    std::vector<int64_t> at;
    for (size_t d = 0; d < strides.size(); ++d) at.push_back(index(d, slots));
    throw Error(str_cat("compute '", consumer->name, "' reads '", tensor->name, "' at index ",
                        dims_string(at), ", out of bounds of its shape ",
                        dims_string(tensor->shape)));
  }
};

class Compiler {
 public:
  explicit Compiler(const ExprScope& scope) : scope_(scope) {}

  FloatCode float_code(const Expr& e) {
    KILN_CHECK(is_float(e.dtype()), "float code for ", e, " of dtype ", e.dtype());
    switch (e.kind()) {
      case ExprKind::FloatImm: {
        // A constant holds a value of its dtype (an f32 0.1 is 0.1f), as in generated code.
        double v = round_float(e.as<FloatImmNode>()->value, e.dtype());
        return [v](const int64_t*) { return v; };
      }
      case ExprKind::Binary: {
        auto* n = e.as<BinaryNode>();
        FloatBinaryFn fn = float_binary(n->op);
        return [fn, a = float_code(n->a), b = float_code(n->b)](const int64_t* s) {
          return fn(a(s), b(s));
        };
      }
      case ExprKind::Unary: {
        auto* n = e.as<UnaryNode>();
        FloatUnaryFn fn = float_unary(n->op);
        return [fn, a = float_code(n->a)](const int64_t* s) { return fn(a(s)); };
      }
      case ExprKind::Select: {
        auto* n = e.as<SelectNode>();
        // Only the taken branch runs: the other may read out of bounds (padding, for one).
        return [c = int_code(n->cond), t = float_code(n->true_value),
                f = float_code(n->false_value)](const int64_t* s) { return c(s) ? t(s) : f(s); };
      }
      case ExprKind::Cast: {
        auto* n = e.as<CastNode>();
        DType t = e.dtype();
        if (is_float(n->value.dtype()))
          return [t, v = float_code(n->value)](const int64_t* s) { return round_float(v(s), t); };
        return [t, v = int_code(n->value)](const int64_t* s) {
          return round_float(static_cast<double>(v(s)), t);
        };
      }
      case ExprKind::Load: {
        auto plan = load_plan(e.as<LoadNode>());
        return [plan](const int64_t* s) {
          return load_float(plan->data, plan->dtype, plan->position(s));
        };
      }
      default: KILN_CHECK(false, "cannot compile ", e, " as a float expression");
    }
  }

  IntCode int_code(const Expr& e) {
    KILN_CHECK(!is_float(e.dtype()), "integer code for ", e, " of dtype ", e.dtype());
    DType t = e.dtype();
    switch (e.kind()) {
      case ExprKind::IntImm: {
        int64_t v = e.as<IntImmNode>()->value;
        return [v](const int64_t*) { return v; };
      }
      case ExprKind::Var: {
        auto it = scope_.slots.find(e.as<VarNode>());
        KILN_CHECK(it != scope_.slots.end(), "variable ", e, " has no slot");
        int slot = it->second;
        return [slot](const int64_t* s) { return s[slot]; };
      }
      case ExprKind::Binary: return binary_int_code(e.as<BinaryNode>(), t);
      case ExprKind::Unary: {
        auto* n = e.as<UnaryNode>();
        if (n->op == UnaryOp::IsNan && is_float(n->a.dtype()))
          return [a = float_code(n->a)](const int64_t* s) -> int64_t { return std::isnan(a(s)); };
        IntUnaryFn fn = int_unary(n->op);
        return [fn, t, a = int_code(n->a)](const int64_t* s) { return wrap_int(fn(a(s)), t); };
      }
      case ExprKind::Select: {
        auto* n = e.as<SelectNode>();
        return [c = int_code(n->cond), a = int_code(n->true_value),
                b = int_code(n->false_value)](const int64_t* s) { return c(s) ? a(s) : b(s); };
      }
      case ExprKind::Cast: {
        auto* n = e.as<CastNode>();
        if (!is_float(n->value.dtype()))
          return [t, v = int_code(n->value)](const int64_t* s) { return wrap_int(v(s), t); };
        if (t == DType::Bool)
          return [v = float_code(n->value)](const int64_t* s) -> int64_t { return v(s) != 0; };
        return [t, v = float_code(n->value)](const int64_t* s) {
          return wrap_int(wrap_to_int64(v(s)), t);
        };
      }
      case ExprKind::Load: {
        auto plan = load_plan(e.as<LoadNode>());
        return [plan](const int64_t* s) {
          return load_int(plan->data, plan->dtype, plan->position(s));
        };
      }
      default: KILN_CHECK(false, "cannot compile ", e, " as an integer expression");
    }
  }

 private:
  IntCode binary_int_code(const BinaryNode* n, DType t) {
    if (is_float(n->a.dtype())) {  // A comparison of floats.
      FloatCompareFn fn = float_comparison(n->op);
      return [fn, a = float_code(n->a), b = float_code(n->b)](const int64_t* s) {
        return fn(a(s), b(s));
      };
    }
    IntBinaryFn fn = int_binary(n->op);
    IntCode a = int_code(n->a), b = int_code(n->b);
    if (!divides(n->op))
      return [fn, t, a, b](const int64_t* s) { return wrap_int(fn(a(s), b(s)), t); };
    return [fn, t, a, b, consumer = scope_.consumer, op = n->op](const int64_t* s) {
      int64_t divisor = b(s);
      if (divisor == 0)
        throw Error(str_cat("compute '", consumer->name, "': integer ", op, " by zero"));
      return wrap_int(fn(a(s), divisor), t);
    };
  }

  std::shared_ptr<const LoadPlan> load_plan(const LoadNode* n) {
    auto it = scope_.buffers.find(n->tensor.get());
    KILN_CHECK(it != scope_.buffers.end(), "tensor '", n->tensor->name, "' has no buffer");
    const HostTensor& buffer = *it->second;
    auto plan = std::make_shared<LoadPlan>(LoadPlan{scope_.consumer,
                                                    n->tensor.get(),
                                                    static_cast<const std::byte*>(buffer.data()),
                                                    buffer.dtype,
                                                    buffer.strides,
                                                    {},
                                                    {}});
    for (auto& index : n->indices) {
      auto* v = index.as<VarNode>();
      auto slot = v ? scope_.slots.find(v) : scope_.slots.end();
      plan->index_slot.push_back(slot != scope_.slots.end() ? slot->second : -1);
      plan->index_code.push_back(slot != scope_.slots.end() ? IntCode() : int_code(index));
    }
    return plan;
  }

  const ExprScope& scope_;
};

}  // namespace

FloatCode compile_float(const Expr& e, const ExprScope& scope) {
  return Compiler(scope).float_code(e);
}

IntCode compile_int(const Expr& e, const ExprScope& scope) {
  return Compiler(scope).int_code(e);
}

}  // namespace kiln
