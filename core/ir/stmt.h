// Loop IR: what a schedule lowers compute definitions to, and what every backend consumes.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace kiln {

enum class StmtKind : uint8_t { For, Store, Allocate, Seq, IfThenElse };

/// How a loop runs. GPU kinds bind the loop to a block or thread index (`thread_axis` 0..2 = x..z).
enum class ForKind : uint8_t { Serial, Parallel, Vectorized, Unrolled, GpuBlock, GpuThread };

/// Where an Allocate'd buffer lives: kernel-private and small (registers/stack), GPU shared
/// memory, or main memory for intermediates too big for the stack (heap, freed after `body`).
enum class MemoryScope : uint8_t { Local, Shared, Global };

struct StmtNode {
  const StmtKind kind;
  virtual ~StmtNode() = default;

 protected:
  explicit StmtNode(StmtKind k) : kind(k) {}
};

/// Handle to an immutable statement node.
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(std::shared_ptr<const StmtNode> node) : node_(std::move(node)) {}
  const StmtNode* get() const { return node_.get(); }
  const StmtNode* operator->() const { return node_.get(); }
  bool defined() const { return node_ != nullptr; }
  bool same_as(const Stmt& other) const { return node_ == other.node_; }
  StmtKind kind() const { return node_->kind; }
  template <typename T>
  const T* as() const {
    return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
  }

 private:
  std::shared_ptr<const StmtNode> node_;
};

/// `for (var = 0; var < extent; ++var) body`. The loop binds `var`.
struct ForNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::For;
  Var var;
  int64_t extent;
  ForKind for_kind;
  int thread_axis;
  Stmt body;
  static Stmt make(Var var, int64_t extent, ForKind kind, Stmt body, int thread_axis = 0);
  ForNode(Var v, int64_t e, ForKind k, int axis, Stmt b)
      : StmtNode(kKind),
        var(std::move(v)),
        extent(e),
        for_kind(k),
        thread_axis(axis),
        body(std::move(b)) {}
};

/// `tensor[indices] = value`, with the tensor's element strides.
struct StoreNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Store;
  Tensor tensor;
  std::vector<Expr> indices;
  Expr value;
  static Stmt make(Tensor tensor, std::vector<Expr> indices, Expr value);
  StoreNode(Tensor t, std::vector<Expr> i, Expr v)
      : StmtNode(kKind), tensor(std::move(t)), indices(std::move(i)), value(std::move(v)) {}
};

/// Storage for `tensor` (row-major, its shape) that lives while `body` runs.
struct AllocateNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Allocate;
  Tensor tensor;
  MemoryScope scope;
  Stmt body;
  static Stmt make(Tensor tensor, MemoryScope scope, Stmt body);
  AllocateNode(Tensor t, MemoryScope s, Stmt b)
      : StmtNode(kKind), tensor(std::move(t)), scope(s), body(std::move(b)) {}
};

struct SeqNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Seq;
  std::vector<Stmt> stmts;
  /// Flattens nested Seqs; a single statement is returned as itself.
  static Stmt make(std::vector<Stmt> stmts);
  explicit SeqNode(std::vector<Stmt> s) : StmtNode(kKind), stmts(std::move(s)) {}
};

struct IfThenElseNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::IfThenElse;
  Expr cond;
  Stmt then_case;
  Stmt else_case;  ///< May be undefined.
  static Stmt make(Expr cond, Stmt then_case, Stmt else_case = Stmt());
  IfThenElseNode(Expr c, Stmt t, Stmt e)
      : StmtNode(kKind), cond(std::move(c)), then_case(std::move(t)), else_case(std::move(e)) {}
};

/// A buffer holding one region of a tensor (a stage computed inside another stage's loop, over
/// just what that loop reads): element i of `buffer` is element `mins` + i of `tensor`, the
/// buffer's dimension k being the tensor's dimension order[k] (empty `order`: the same order).
struct RegionBuffer {
  Tensor buffer;
  Tensor tensor;
  std::vector<Expr> mins;
  std::vector<int> order;
};

/// A buffer a kernel fills from its inputs alone (a weight copied into panels), kept outside the
/// kernel so that a caller who knows those inputs did not change can keep it filled from call to
/// call (see hoist_prepared_buffers): the kernel fills it only where its fill flag is set.
struct PreparedBuffer {
  Tensor buffer;
  std::vector<int> inputs;  ///< The parameters (inputs) its fill reads, ascending.
  int64_t bytes = 0;        ///< What to allocate for it: its elements and the backend's slack.
};

/// A kernel: loop IR over its parameters. `params` are the placeholders (inputs) followed by the
/// outputs; the kernel receives one data pointer per parameter, in this order. Its prepared
/// buffers, and `prepare_flags` (i32, one per prepared buffer: nonzero fills it), are the
/// backend's to pass (see KernelEntry in core/runtime/prepared_buffers.h).
struct LoweredFunc {
  std::string name;
  std::vector<Tensor> params;
  int num_inputs = 0;
  Stmt body;
  /// Region buffers whose readers still load the whole tensor: the loop-nest builder fills it,
  /// the pass localize_region_buffers rewrites those loads inside each buffer's allocation and
  /// empties it. Empty in a lowered function.
  std::vector<RegionBuffer> regions;
  /// Set by the backend that compiles the function (the LLVM backend's
  /// hoist_prepared_buffers); empty as lower() makes it.
  std::vector<PreparedBuffer> prepared = {};
  Tensor prepare_flags = {};  ///< Defined where `prepared` is not empty.
};

std::string_view for_kind_name(ForKind k);
std::ostream& operator<<(std::ostream& os, ForKind k);
std::ostream& operator<<(std::ostream& os, const Stmt& s);
std::ostream& operator<<(std::ostream& os, const LoweredFunc& f);

}  // namespace kiln
