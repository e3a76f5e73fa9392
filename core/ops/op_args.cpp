#include "core/ops/op_args.h"

#include <sstream>

namespace kiln {

OpArgs::OpArgs(std::string_view op, const std::vector<OpArg>& args,
               std::vector<std::string_view> names)
    : op_(op), args_(args), names_(std::move(names)) {
  if (args_.size() != names_.size())
    throw error(str_cat("takes ", names_.size(), " arguments, got ", args_.size()));
}

bool OpArgs::is_none(int i) const {
  return std::holds_alternative<NoneArg>(args_[i]);
}

bool OpArgs::is_number(int i) const {
  return std::holds_alternative<double>(args_[i]) || std::holds_alternative<int64_t>(args_[i]) ||
         std::holds_alternative<bool>(args_[i]);
}

OpError OpArgs::error(int i, std::string_view what) const {
  return OpError(str_cat(op_, ": argument '", names_[i], "' ", what));
}

OpError OpArgs::error(std::string_view what) const {
  return OpError(str_cat(op_, ": ", what));
}

OpError OpArgs::type_error(int i, std::string_view expected) const {
  static constexpr std::string_view kinds[] = {"None",  "Tensor",   "float", "int",       "bool",
                                               "int[]", "Tensor[]", "str",   "ScalarType"};
  return error(i, str_cat("must be ", expected, ", got ", kinds[args_[i].index()]));
}

Tensor OpArgs::tensor(int i) const {
  if (auto* t = std::get_if<Tensor>(&args_[i]); t && t->defined()) return *t;
  throw type_error(i, "a Tensor");
}

std::optional<Tensor> OpArgs::optional_tensor(int i) const {
  if (is_none(i)) return std::nullopt;
  return tensor(i);
}

std::vector<Tensor> OpArgs::tensors(int i) const {
  std::vector<Tensor> list = optional_tensors(i);
  for (const Tensor& t : list)
    if (!t.defined()) throw error(i, "holds a None where a Tensor[] takes tensors only");
  return list;
}

std::vector<Tensor> OpArgs::optional_tensors(int i) const {
  if (auto* v = std::get_if<std::vector<Tensor>>(&args_[i])) return *v;
  throw type_error(i, "a Tensor[]");
}

Scalar OpArgs::scalar(int i) const {
  if (auto* d = std::get_if<double>(&args_[i])) return {*d, DType::F64};
  if (auto* n = std::get_if<int64_t>(&args_[i])) return {static_cast<double>(*n), DType::I64};
  if (auto* b = std::get_if<bool>(&args_[i])) return {*b ? 1.0 : 0.0, DType::Bool};
  throw type_error(i, "a Scalar");
}

std::optional<Scalar> OpArgs::optional_scalar(int i) const {
  if (is_none(i)) return std::nullopt;
  return scalar(i);
}

int64_t OpArgs::integer(int i) const {
  if (auto* n = std::get_if<int64_t>(&args_[i])) return *n;
  throw type_error(i, "an int");
}

std::optional<int64_t> OpArgs::optional_integer(int i) const {
  if (is_none(i)) return std::nullopt;
  return integer(i);
}

double OpArgs::real(int i) const {
  if (auto* d = std::get_if<double>(&args_[i])) return *d;
  if (auto* n = std::get_if<int64_t>(&args_[i])) return static_cast<double>(*n);
  throw type_error(i, "a float");
}

bool OpArgs::boolean(int i) const {
  if (auto* b = std::get_if<bool>(&args_[i])) return *b;
  throw type_error(i, "a bool");
}

std::vector<int64_t> OpArgs::ints(int i) const {
  if (auto* v = std::get_if<std::vector<int64_t>>(&args_[i])) return *v;
  if (auto* n = std::get_if<int64_t>(&args_[i])) return {*n};
  throw type_error(i, "an int[]");
}

std::optional<std::vector<int64_t>> OpArgs::optional_ints(int i) const {
  if (is_none(i)) return std::nullopt;
  return ints(i);
}

std::optional<std::string> OpArgs::optional_string(int i) const {
  if (is_none(i)) return std::nullopt;
  if (auto* s = std::get_if<std::string>(&args_[i])) return *s;
  throw type_error(i, "a str");
}

std::optional<DType> OpArgs::optional_dtype(int i) const {
  if (is_none(i)) return std::nullopt;
  if (auto* t = std::get_if<DType>(&args_[i])) return *t;
  throw type_error(i, "a ScalarType");
}

int64_t normalize_dim(const OpArgs& a, int i, int64_t dim, int64_t rank) {
  int64_t wrap = std::max<int64_t>(rank, 1);
  if (dim < -wrap || dim >= wrap)
    throw a.error(i, str_cat("is dimension ", dim, ", out of range for a tensor of rank ", rank));
  return dim < 0 ? dim + wrap : dim;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t d = 0; d < shape.size(); ++d) os << (d ? ", " : "") << shape[d];
  os << "]";
  return os.str();
}

}  // namespace kiln
