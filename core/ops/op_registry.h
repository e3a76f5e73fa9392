// The op library's table: ATen op name ("aten.add.Tensor", as str(node.target) prints it in an FX
// graph) → a lowering that builds compute definitions. One small function per op family fills
// the table; adding an op is one function and one line.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/ir/tensor.h"
#include "core/ops/value_check.h"

namespace kiln {

/// No value: an ATen `None` (an optional argument that was not given).
struct NoneArg {};

/// One argument of an ATen op, positional and complete (defaults filled in from the schema).
/// Scalars keep their Python kind: int → int64_t, float → double, bool → bool.
using OpArg = std::variant<NoneArg, Tensor, double, int64_t, bool, std::vector<int64_t>,
                           std::vector<Tensor>, std::string, DType>;

/// Builds the compute definitions of one op call; returns one tensor per ATen output.
using OpLowering = std::function<std::vector<Tensor>(const std::vector<OpArg>& args)>;
/// The arguments of one op call whose values the runtime must check (value_check.h).
using OpChecks = std::function<std::vector<ValueCheck>(const std::vector<OpArg>& args)>;

class OpRegistry {
 public:
  /// The table with every op of the library registered.
  static const OpRegistry& global();

  void add(const std::string& name, OpLowering lowering);
  /// Declares the value checks of op `name`, registered already.
  void add_checks(const std::string& name, OpChecks checks);
  /// Declares that ATen computes op `name` into new memory (flip, roll, repeat), though its
  /// compute definitions only load the input at remapped indices: unlike a view, ATen's result
  /// is not free, so a kernel of it alone is worth making.
  void mark_copying(const std::string& name);
  bool copies(const std::string& name) const { return copying_.count(name) != 0; }
  /// Registers `copy` ("aten.view_copy.default"), the functional copy of the view op `view`
  /// with the same arguments, by the view's lowering and checks (a kernel's outputs are new
  /// memory anyway), as copying.
  void add_copy_of(const std::string& copy, const std::string& view);
  bool contains(const std::string& name) const { return table_.count(name) != 0; }
  /// Lowers one call. Throws OpError naming the op when it is unknown or its arguments are invalid.
  std::vector<Tensor> lower(const std::string& name, const std::vector<OpArg>& args) const;
  std::vector<std::string> names() const;
  /// The value checks of one call (none for most ops); call it on arguments lower() accepts.
  std::vector<ValueCheck> checks(const std::string& name, const std::vector<OpArg>& args) const;

 private:
  std::map<std::string, OpLowering> table_;
  std::map<std::string, OpChecks> checks_;
  std::set<std::string> copying_;
};

// One registration function per op family (each in its own file).
void register_elementwise_ops(OpRegistry& r);
void register_reduction_ops(OpRegistry& r);
void register_normalization_ops(OpRegistry& r);
void register_layout_ops(OpRegistry& r);
void register_contraction_ops(OpRegistry& r);
void register_convolution_ops(OpRegistry& r);
void register_pooling_ops(OpRegistry& r);
void register_pooling_backward_ops(OpRegistry& r);
void register_indexing_ops(OpRegistry& r);
void register_strided_view_ops(OpRegistry& r);
void register_scatter_view_ops(OpRegistry& r);
void register_scan_ops(OpRegistry& r);
void register_scatter_ops(OpRegistry& r);
void register_masked_scatter_ops(OpRegistry& r);

}  // namespace kiln
