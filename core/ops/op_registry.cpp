#include "core/ops/op_registry.h"

#include "core/support/error.h"

namespace kiln {

const OpRegistry& OpRegistry::global() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    register_reduction_ops(r);
    register_normalization_ops(r);
    register_layout_ops(r);
    register_contraction_ops(r);
    register_convolution_ops(r);
    register_pooling_ops(r);
    register_pooling_backward_ops(r);
    register_indexing_ops(r);
    register_strided_view_ops(r);
    register_scatter_view_ops(r);
    register_scan_ops(r);
    register_scatter_ops(r);
    register_masked_scatter_ops(r);
    for (const char* view : {"view.default", "permute.default", "expand.default", "select.int",
                             "slice.Tensor", "squeeze.dim", "squeeze.dims", "unsqueeze.default",
                             "t.default", "transpose.int", "diagonal.default", "unfold.default",
                             "split.Tensor", "split_with_sizes.default", "alias.default"}) {
      std::string name = view;
      size_t dot = name.find('.');
      r.add_copy_of(str_cat("aten.", name.substr(0, dot), "_copy", name.substr(dot)),
                    "aten." + name);
    }
    return r;
  }();
  return registry;
}

void OpRegistry::add(const std::string& name, OpLowering lowering) {
  KILN_CHECK(!table_.count(name), "op '", name, "' registered twice");
  table_[name] = std::move(lowering);
}

void OpRegistry::add_copy_of(const std::string& copy, const std::string& view) {
  KILN_CHECK(table_.count(view), "op '", view, "' copied before it is registered");
  add(copy, table_.at(view));
  if (auto it = checks_.find(view); it != checks_.end()) checks_[copy] = it->second;
  copying_.insert(copy);
}

void OpRegistry::mark_copying(const std::string& name) {
  KILN_CHECK(table_.count(name), "op '", name, "' marked copying before it is registered");
  copying_.insert(name);
}

void OpRegistry::add_checks(const std::string& name, OpChecks checks) {
  KILN_CHECK(table_.count(name) && !checks_.count(name), "checks of op '", name,
             "' registered before the op or twice");
  checks_[name] = std::move(checks);
}

std::vector<ValueCheck> OpRegistry::checks(const std::string& name,
                                           const std::vector<OpArg>& args) const {
  auto it = checks_.find(name);
  return it == checks_.end() ? std::vector<ValueCheck>{} : it->second(args);
}

std::string value_check_message(const ValueCheck& check, int64_t bad_value) {
  if (check.rule == ValueCheck::Rule::NonZero) return "ZeroDivisionError";
  if (check.rule == ValueCheck::Rule::Index) return "index out of range in self";
  return str_cat("index ", bad_value, " is out of bounds for dimension ", check.dim, " with size ",
                 check.size);
}

std::vector<Tensor> OpRegistry::lower(const std::string& name,
                                      const std::vector<OpArg>& args) const {
  auto it = table_.find(name);
  if (it == table_.end()) throw OpError(str_cat("op '", name, "' is not supported by Kiln"));
  try {
    return it->second(args);
  } catch (const IRError& e) {
    // An argument combination no check caught (a dtype an IR node rejects): still the caller's
    // input, so it is reported as an OpError that names the op.
    throw OpError(str_cat(name, ": ", e.what()));
  }
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> names;
  for (auto& [name, lowering] : table_) names.push_back(name);
  return names;
}

}  // namespace kiln
