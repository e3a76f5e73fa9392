// program_from_json: reads the program format (described at the top of program_codec.cpp) back
// into tensors. Every accessor checks what it reads and throws IRError naming the field; every
// tensor is rebuilt through compute(), scan(), scatter() and the nodes' make(), so the IR's own
// validation checks the rest.
#include <algorithm>
#include <bit>
#include <charconv>
#include <climits>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "core/support/error.h"
#include "fleet/program_codec.h"
#include "fleet/program_format.h"

namespace kiln {

namespace {

using nlohmann::json;
using program_format::kFormat;
using program_format::kKindNames;
using program_format::kMaxDepth;
using program_format::kSchemaVersion;
using program_format::kStateKind;

// The last operator of each enum, as expr.cpp's name tables end.
constexpr BinaryOp kLastBinaryOp = BinaryOp::Zeta;
constexpr UnaryOp kLastUnaryOp = UnaryOp::Ndtri;
constexpr ReduceOp kLastReduceOp = ReduceOp::ArgMin;

template <typename Op>
std::optional<Op> op_from_name(std::string_view name, Op last, std::string_view (*op_name)(Op)) {
  for (int k = 0; k <= static_cast<int>(last); ++k)
    if (op_name(static_cast<Op>(k)) == name) return static_cast<Op>(k);
  return std::nullopt;
}

/// Runs `f`, prefixing the message of an IRError it throws with `where`.
template <typename F>
auto in_context(const std::string& where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const IRError& e) {
    throw IRError(str_cat(where, ": ", e.what()));
  }
}

const json& field(const json& j, const char* key) {
  if (!j.is_object()) throw IRError(str_cat("expected an object, got ", j.type_name()));
  auto it = j.find(key);
  if (it == j.end()) throw IRError(str_cat("missing field \"", key, "\""));
  return *it;
}

int64_t as_int(const json& j, std::string_view what) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      throw IRError(str_cat(what, ": ", j.dump(), " does not fit 64 bits"));
    return static_cast<int64_t>(j.get<uint64_t>());
  }
  if (!j.is_number_integer())
    throw IRError(str_cat(what, ": expected an integer, got ", j.type_name()));
  return j.get<int64_t>();
}

int64_t int_field(const json& j, const char* key) {
  return as_int(field(j, key), str_cat("field \"", key, "\""));
}

const json& array_field(const json& j, const char* key) {
  const json& a = field(j, key);
  if (!a.is_array())
    throw IRError(str_cat("field \"", key, "\": expected an array, got ", a.type_name()));
  return a;
}

const std::string& string_field(const json& j, const char* key) {
  const json& s = field(j, key);
  if (!s.is_string())
    throw IRError(str_cat("field \"", key, "\": expected a string, got ", s.type_name()));
  return s.get_ref<const std::string&>();
}

std::vector<int64_t> ints_field(const json& j, const char* key) {
  std::vector<int64_t> values;
  for (const json& v : array_field(j, key))
    values.push_back(as_int(v, str_cat("field \"", key, "\"")));
  return values;
}

DType dtype_field(const json& j) {
  return dtype_from_name(string_field(j, "dtype"));
}

template <typename Op>
Op op_field(const json& j, Op last, std::string_view (*op_name)(Op)) {
  const std::string& name = string_field(j, "op");
  if (std::optional<Op> op = op_from_name(name, last, op_name)) return *op;
  throw IRError(str_cat("unknown operator \"", name, "\""));
}

double float_from_json(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string())
    throw IRError(str_cat("field \"value\": expected a number, got ", v.type_name()));
  const std::string& s = v.get_ref<const std::string&>();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  uint64_t bits = 0;
  if (s.starts_with("nan:") && s.size() > 4) {
    auto [end, error] = std::from_chars(s.data() + 4, s.data() + s.size(), bits, 16);
    if (error == std::errc() && end == s.data() + s.size() &&
        std::isnan(std::bit_cast<double>(bits)))
      return std::bit_cast<double>(bits);
  }
  throw IRError(str_cat("field \"value\": \"", s, "\" is not a float"));
}

class ProgramReader {
 public:
  std::vector<Tensor> read(const json& program) {
    auto format = program.is_object() ? program.find("format") : program.end();
    if (format == program.end() || *format != kFormat)
      throw IRError(str_cat("not a Kiln program (no \"format\": \"", kFormat, "\")"));
    if (int64_t version = int_field(program, "schema_version"); version > kSchemaVersion)
      throw IRError(
          str_cat("schema version ", version, " is newer than this Kiln's ", kSchemaVersion));
    for (const json& t : array_field(program, "tensors")) {
      std::string where = str_cat("tensor ", tensors_.size());
      if (auto name = t.is_object() ? t.find("name") : t.end();
          name != t.end() && name->is_string())
        where += str_cat(" (", name->dump(), ")");  // NOTE: dump() recurses: strings only
      tensors_.push_back(in_context(where, [&] { return tensor(t); }));
    }
    std::vector<Tensor> outputs;
    for (const json& id : array_field(program, "outputs"))
      outputs.push_back(in_context("outputs", [&] { return tensor_ref(id); }));
    return outputs;
  }

 private:
  Tensor tensor(const json& j) {
    std::string name = string_field(j, "name");
    const std::string& kind = string_field(j, "kind");
    DType dtype = dtype_field(j);
    std::vector<int64_t> shape = ints_field(j, "shape");
    if (kind == "placeholder") {
      std::vector<int64_t> strides = ints_field(j, "strides");
      if (strides.size() != shape.size())
        throw IRError(str_cat(shape.size(), " dimensions but ", strides.size(), " strides"));
      return placeholder(std::move(name), std::move(shape), dtype, std::move(strides));
    }
    if (kind != "compute" && kind != "scan" && kind != "scatter")
      throw IRError(str_cat("tensor kind \"", kind, "\" unknown"));
    const json& axes = array_field(j, "axes");
    if (axes.size() != shape.size())
      throw IRError(str_cat(shape.size(), " dimensions but ", axes.size(), " axes"));
    auto bind_axes = [&](const std::vector<Var>& vars) {
      for (size_t d = 0; d < vars.size(); ++d) bind(as_int(axes[d], "field \"axes\""), vars[d]);
    };
    Tensor t;
    if (kind == "compute") {
      t = compute(std::move(name), std::move(shape), [&](const std::vector<Var>& vars) {
        bind_axes(vars);
        return section("body", field(j, "body"));
      });
    } else if (kind == "scan") {
      int64_t axis = int_field(j, "axis");
      if (axis < 0 || axis >= static_cast<int64_t>(shape.size()))
        throw IRError(
            str_cat("scan axis ", axis, " out of range for ", shape.size(), " dimensions"));
      t = scan(
          std::move(name), std::move(shape), static_cast<int>(axis),
          [&](const std::vector<Var>& vars) {
            bind_axes(vars);
            return section("first", field(j, "first"));
          },
          [&](const std::vector<Var>& vars, const Expr& prev) {
            bind_axes(vars);
            return section("step", field(j, "step"), &prev);
          });
    } else {  // a scatter
      std::vector<ScatterUpdateDef> updates;
      const json& defs = array_field(j, "updates");
      for (size_t u = 0; u < defs.size(); ++u) updates.push_back(update(defs[u], u));
      t = scatter(
          std::move(name), std::move(shape),
          [&](const std::vector<Var>& vars) {
            bind_axes(vars);
            return section("init", field(j, "init"));
          },
          updates);
    }
    if (t->dtype != dtype)
      throw IRError(str_cat("declared ", dtype, " but its definition gives ", t->dtype));
    return t;
  }

  /// Scatter update `u`, whose functions read `def` when scatter() calls them.
  ScatterUpdateDef update(const json& def, size_t u) {
    std::string where = str_cat("update ", u);
    ScatterUpdateDef result;
    std::vector<int64_t> ids;
    in_context(where, [&] {
      for (const json& ax : array_field(def, "axes")) {
        ids.push_back(int_field(ax, "var"));
        result.domain.push_back(int_field(ax, "extent"));
      }
      array_field(def, "target");
      field(def, "value");
    });
    auto bind_point = [this, ids](const std::vector<Var>& point) {
      for (size_t d = 0; d < point.size(); ++d) bind(ids[d], point[d]);
    };
    result.target = [this, &def, where, bind_point](const std::vector<Var>& point) {
      bind_point(point);
      std::vector<Expr> target;
      const json& indices = array_field(def, "target");
      for (size_t d = 0; d < indices.size(); ++d)
        target.push_back(section(str_cat(where, " target ", d), indices[d]));
      return target;
    };
    result.value = [this, &def, where, bind_point](const std::vector<Var>& point, const Expr& old) {
      bind_point(point);
      return section(str_cat(where, " value"), field(def, "value"), &old);
    };
    return result;
  }

  /// Binds variable number `id` to `var`, an axis that compute(), scan() or scatter() made;
  /// binding it again to the same variable is allowed (a scan's first and step, a scatter
  /// update's target and value).
  void bind(int64_t id, const Var& var) {
    auto [it, added] = vars_.emplace(id, var);
    if (!added && !it->second.same_as(var))
      throw IRError(str_cat("variable ", id, " is bound twice"));
  }

  /// The variable of a reduce axis: new, or the one an earlier reduce axis bound to `id`.
  Var reduce_var(int64_t id, const std::string& name) {
    auto [it, added] = vars_.emplace(id, Var(name));
    if (it->second.name() != name)
      throw IRError(str_cat("variable ", id, " is bound again as '", name, "', was '",
                            it->second.name(), "'"));
    return it->second;
  }

  /// The expression `j`, in which a State node stands for `state`.
  Expr section(const std::string& where, const json& j, const Expr* state = nullptr) {
    state_ = state;
    Expr e = in_context(where, [&] { return expr(j, 0); });
    state_ = nullptr;
    return e;
  }

  Tensor tensor_ref(const json& j) {
    int64_t id = as_int(j, "tensor id");
    if (id < 0 || id >= static_cast<int64_t>(tensors_.size()))
      throw IRError(str_cat("tensor ", id, " is not defined before this point"));
    return tensors_[id];
  }

  Expr expr(const json& j, int depth) {
    if (depth > kMaxDepth)
      throw IRError(str_cat("expression nested deeper than ", kMaxDepth, " levels"));
    const std::string& kind = string_field(j, "kind");
    if (kind == kStateKind) {
      if (!state_) throw IRError("a State node outside a scan step or a scatter update value");
      return *state_;
    }
    auto known = std::find(std::begin(kKindNames), std::end(kKindNames), kind);
    if (known == std::end(kKindNames)) throw IRError(str_cat("node kind \"", kind, "\" unknown"));
    switch (static_cast<ExprKind>(known - std::begin(kKindNames))) {
      case ExprKind::IntImm: return IntImmNode::make(dtype_field(j), int_field(j, "value"));
      case ExprKind::FloatImm:
        return FloatImmNode::make(dtype_field(j), float_from_json(field(j, "value")));
      case ExprKind::Var: {
        int64_t id = int_field(j, "var");
        auto it = vars_.find(id);
        if (it == vars_.end()) throw IRError(str_cat("variable ", id, " is not bound"));
        return it->second;
      }
      case ExprKind::Binary: {
        BinaryOp op = op_field(j, kLastBinaryOp, binary_op_name);
        Expr a = expr(field(j, "a"), depth + 1);
        return BinaryNode::make(op, std::move(a), expr(field(j, "b"), depth + 1));
      }
      case ExprKind::Unary:
        return UnaryNode::make(op_field(j, kLastUnaryOp, unary_op_name),
                               expr(field(j, "a"), depth + 1));
      case ExprKind::Select: {
        Expr cond = expr(field(j, "cond"), depth + 1);
        Expr true_value = expr(field(j, "true_value"), depth + 1);
        return SelectNode::make(std::move(cond), std::move(true_value),
                                expr(field(j, "false_value"), depth + 1));
      }
      case ExprKind::Cast:
        return CastNode::make(dtype_field(j), expr(field(j, "value"), depth + 1));
      case ExprKind::Load: {
        Tensor t = tensor_ref(field(j, "tensor"));
        std::vector<Expr> indices;
        for (const json& index : array_field(j, "indices"))
          indices.push_back(expr(index, depth + 1));
        return LoadNode::make(std::move(t), std::move(indices));
      }
      case ExprKind::Reduce: {
        ReduceOp op = op_field(j, kLastReduceOp, reduce_op_name);
        std::vector<IterVar> axes;
        for (const json& ax : array_field(j, "axes")) {
          Var var = reduce_var(int_field(ax, "var"), string_field(ax, "name"));
          axes.push_back(IterVar{var, int_field(ax, "extent")});
        }
        return ReduceNode::make(op, expr(field(j, "source"), depth + 1), std::move(axes));
      }
    }
    KILN_CHECK(false, "unhandled node kind ", kind);
  }

  std::vector<Tensor> tensors_;            ///< By id: each defined before it is read.
  std::unordered_map<int64_t, Var> vars_;  ///< By number, in the whole program.
  const Expr* state_ = nullptr;            ///< What a State node stands for here, if anything.
};

}  // namespace

std::vector<Tensor> program_from_json(const std::string& text) {
  try {
    return ProgramReader().read(json::parse(text));
  } catch (const json::exception& e) {
    throw IRError(str_cat("program JSON: ", e.what()));
  } catch (const IRError& e) {
    throw IRError(str_cat("program JSON: ", e.what()));
  }
}

}  // namespace kiln
