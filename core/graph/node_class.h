// What partition knows about one node before fusing: whether Kiln can run it, and its op class.
// Private to core/graph.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/graph/graph.h"

namespace kiln {

/// The op classes fusion distinguishes (TVM's pattern kinds, reduced to what the rules use).
enum class NodeClass : uint8_t {
  Fallback,     ///< Stays an ATen call.
  Injective,    ///< No reduction: elementwise, broadcast, layout index maps.
  Reduction,    ///< Reduces, but is not a contraction (sum, softmax, layer_norm, pooling).
  Contraction,  ///< A Sum of a product of two loads (mm, bmm, addmm, convolution).
  Scan,         ///< A recurrence along an axis (cumsum, cummax): a kernel of its own.
  Scatter,      ///< Writes at indices read from data (scatter_add, index_put): a kernel of its own.
};

struct NodeInfo {
  NodeClass cls = NodeClass::Fallback;
  /// Every compute of the op only loads another tensor at remapped indices, and ATen makes it a
  /// view, without copying (not flip, roll, repeat: OpRegistry::copies).
  bool index_map = false;
  /// Why Kiln cannot run the op here (reported in Partition::unsupported); empty for a node Kiln
  /// runs and for a fallback that is no fault of the op (empty tensors, nothing to compute).
  std::string unsupported;
  /// Values whose contents the runtime checks before a kernel reads them (ValueCheck): fusion
  /// keeps each out of the group of the node that reads it, so that it is a kernel input.
  std::vector<ValueId> checked_inputs;
};

/// The values `node` reads, tensor lists flattened, in argument order (repeats kept).
std::vector<ValueId> node_inputs(const Node& node);

/// The value that `check` (one of `node`'s op's ValueChecks) is about.
ValueId checked_value(const Node& node, const ValueCheck& check);

/// The op arguments of `node`, with each graph value replaced by tensor_of(value).
std::vector<OpArg> node_op_args(const Node& node, const std::function<Tensor(ValueId)>& tensor_of);

/// A placeholder for value `v` of `g` with the given strides, named "v<id>".
Tensor value_placeholder(const Graph& g, ValueId v, std::vector<int64_t> strides);

/// Classifies node `n` by lowering it alone on placeholders of its input types (see partition
/// in graph.h for the rules). Only user-caused errors (kiln::Error) of the lowering make it a
/// fallback; an InternalError propagates.
NodeInfo classify_node(const Graph& g, int n, const OpRegistry& ops);

}  // namespace kiln
