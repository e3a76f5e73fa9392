// The op graph that crosses from PyTorch into Kiln once per compiled FX graph: ATen op nodes with
// their attributes and the types of the values they make (shape, dtype, strides, device).
#pragma once

#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/ops/op_registry.h"

namespace kiln {

/// The type of one tensor value of the graph, as FakeTensor metadata gives it.
struct TensorType {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  ///< In elements.
  std::string device = "cpu";    ///< "cpu", "cuda:0", ...
};

/// Index of a value (a graph input or a node output) in Graph::values().
using ValueId = int;

/// A reference to a graph value inside a node's arguments.
struct ValueRef {
  ValueId id;
};

/// In a tensor-list argument, the entry of a None (ATen's `Tensor?[]`, as index.Tensor takes).
inline constexpr ValueId kNoValue = -1;

/// One argument of a node: an OpArg whose tensors are graph values.
using NodeArg = std::variant<NoneArg, ValueRef, double, int64_t, bool, std::vector<int64_t>,
                             std::vector<ValueRef>, std::string, DType>;

struct Node {
  std::string op;             ///< FX target as printed: "aten.add.Tensor".
  std::vector<NodeArg> args;  ///< Positional and complete (schema defaults filled in).
  std::vector<ValueId> outputs;
  /// Whether it writes state outside its results (a mutation, an RNG step): it runs after every
  /// node before it in the graph, not only after those it reads (Partition::steps).
  bool side_effects = false;
};

/// A DAG of ATen ops in topological order (nodes only read values made before them).
class Graph {
 public:
  /// A graph input (an FX placeholder, or a parameter). Empty strides mean row-major. Throws
  /// IRError when the strides do not have one entry per dimension or a size or stride is negative.
  /// `constant`: a constant of the model (an inference graph's parameter or buffer), which
  /// kernels may prepare once (packed weights) while it stays unchanged.
  ValueId add_input(TensorType type, bool constant = false);
  /// Appends a node; returns the ids of its outputs (one per type). Throws IRError when an
  /// argument refers to a value that does not exist yet, or an output type is malformed (as in
  /// add_input). Nothing else is checked here: whether Kiln can run the op is partition's call.
  std::vector<ValueId> add_node(std::string op, std::vector<NodeArg> args,
                                std::vector<TensorType> output_types, bool side_effects = false);
  /// Marks a value as a result of the graph (it must be materialized). Marking twice is a no-op;
  /// throws IRError for a value that does not exist.
  void mark_output(ValueId v);

  const std::vector<TensorType>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  /// The node that makes value `v`, or -1 for a graph input.
  int producer(ValueId v) const { return producer_[v]; }
  /// Whether value `v` is an input added as a constant.
  bool is_constant(ValueId v) const { return constant_.count(v) > 0; }

 private:
  std::vector<TensorType> values_;
  std::vector<int> producer_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_, outputs_;
  std::set<ValueId> constant_;
};

/// A value check (value_check.h) of one input of a fusion group's kernel.
struct InputCheck {
  ValueCheck check;
  int input;       ///< Into FusionGroup::inputs.
  std::string op;  ///< The op that reads it ("aten.embedding.default"), for the message.
};

/// A set of nodes that becomes one kernel.
///
/// NOTE: the layout contract with the runtime. A kernel writes its results row-major, whatever
/// strides Graph::values() recorded for those values. So the placeholder of an input made by
/// another group is row-major too; the placeholder of a graph input or of a fallback node's
/// output has the strides of its TensorType (what the FX graph promised ATen would produce).
struct FusionGroup {
  std::vector<int> nodes;        ///< Indices into Graph::nodes(), in order.
  std::vector<ValueId> inputs;   ///< Values read from outside the group, in placeholder order;
                                 ///< every one is read by some result (unused ones are dropped).
  std::vector<ValueId> outputs;  ///< Values used outside the group or graph outputs, in order.
  std::vector<Tensor> results;   ///< Compute definitions of `outputs` (always compute tensors,
                                 ///< row-major, one per output, none repeated), over
                                 ///< placeholders of `inputs` (placeholders_of(results) == those
                                 ///< placeholders, in the order of `inputs`). A result has its
                                 ///< output's dtype and element count; its shape may be another
                                 ///< with the same row-major bytes (an output that is a reshape
                                 ///< of a tensor of the group is written as that tensor).
  int contraction = -1;          ///< The group's contraction node (mm, convolution), or -1.
  /// The nodes of the group that its contraction reads: index maps of graph inputs that only
  /// the contraction reads (the transposed weight of a Linear layer), in order.
  std::vector<int> prologue;
  /// What the runtime checks of the inputs before the kernel runs (value_check.h).
  std::vector<InputCheck> checks;
};

/// The types of `values` of `g` as a kernel writes them: row-major, whatever strides `g` recorded.
std::vector<TensorType> row_major_types(const Graph& g, const std::vector<ValueId>& values);

/// One step of running a partitioned graph: a group's kernel, or a fallback node's ATen call.
struct PartitionStep {
  enum class Kind : uint8_t { Group, Fallback } kind;
  int index;  ///< Into Partition::groups (Group) or Graph::nodes() (Fallback).
};

/// How a graph runs: fused groups become kernels, the other nodes stay ATen calls.
struct Partition {
  std::vector<FusionGroup> groups;  ///< Ordered by their first node.
  std::vector<int> fallback_nodes;  ///< Nodes that stay ATen calls, in order.
  /// The ops that Kiln could not run here, each with why (its first such node's reason): "no
  /// Kiln lowering", the lowering's error, a device or a result Kiln's lowering does not match.
  std::map<std::string, std::string> unsupported;
  /// Every group and fallback node once, each after the steps that make its inputs (and a node
  /// with side effects after every step whose first node precedes it), close to the graph's
  /// node order. NOTE: a group cannot always run at the place of one of its nodes
  /// (an outside node between two of its nodes may make one of its inputs while another outside
  /// node there reads one of its outputs), so a caller that rewrites the graph follows this order.
  std::vector<PartitionStep> steps;
  /// Node → its index in `groups`, or -1 for a fallback node.
  std::vector<int> group_of;
};

/// Partitions `g` with these fusion rules: chains of injective ops fuse; injective
/// producers fuse into the reduction that consumes them; elementwise epilogues fuse into the
/// contraction (matmul, convolution) that feeds them; layout ops are index maps. An op the
/// registry does not support, or one on an unsupported device or dtype, stays an ATen call
/// without failing the rest. The rules as implemented:
///  - A node is supported when the registry has its op, every tensor it reads or makes is on
///    "cpu", and lowering it on placeholders of its input types succeeds (no kiln::Error) and
///    gives exactly its output shapes and dtypes (a mismatch is a fallback, never a wrong
///    answer). A node that computes an empty tensor stays ATen too, but is not reported.
///  - A supported node is a contraction (some Sum reduces a product of two loads: mm, bmm, addmm,
///    convolution), a reduction (any other Reduce in its computes) or injective (no Reduce;
///    layout ops are injective index maps). Contractions and reductions are "anchors".
///  - In node order, a node merges with the group of each producer (in argument order) when the
///    merged group holds at most one anchor, no other node of it feeds its contraction directly
///    (a contraction takes no prologue: an inlined producer would be recomputed for every output
///    it contributes to) except free ones (pure index maps of graph inputs that only the
///    contraction reads, once: FusionGroup::prologue), and no path leaves the merged group and
///    comes back (no cycle). So
///    injective chains fuse, a reduction absorbs its injective producers, and injective
///    consumers (epilogues) join the group of a reduction or contraction; a fallback node is
///    never inside a group.
///  - A group made only of pure index maps (views) of graph inputs stays ATen: a view is free
///    there, a copy in a kernel.
///  - A node whose results nothing reads (directly or through other nodes) and that makes no
///    graph output is dead code: it stays a fallback node, fused into nothing, not reported.
///  - Every node is in exactly one group or in fallback_nodes.
Partition partition(const Graph& g, const OpRegistry& ops = OpRegistry::global());

/// What group `k` of `p` computes after its contraction, for a runtime that computes the
/// contraction itself (through ATen): the group without its contraction and prologue nodes,
/// lowered as a group that reads the contraction's outputs as inputs, with the strides `g`
/// recorded for them. Its outputs are those of group `k` except the contraction's own; a group that
/// is only its contraction has an empty epilogue (no nodes, no results). Throws Error when group
/// `k` has no contraction.
FusionGroup lower_epilogue(const Graph& g, const Partition& p, int k,
                           const OpRegistry& ops = OpRegistry::global());

}  // namespace kiln
