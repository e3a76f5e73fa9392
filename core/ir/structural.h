// Structural equality and hashing. Two programs are equal when they differ only in the names of
// variables and tensors: variables are identified by where they are bound (compute axes, reduce
// axes, loops), tensors by their position in topological order. The hash of a tensor program is
// the tuning cache's workload key.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ir/stmt.h"

namespace kiln {

uint64_t structural_hash(const std::vector<Tensor>& outputs);
/// The canonical token stream that structural_hash and structural_equal of a tensor program are
/// computed from (two programs are structurally equal exactly when their streams are equal).
std::vector<uint64_t> structural_tokens(const std::vector<Tensor>& outputs);
bool structural_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b);

uint64_t structural_hash(const Expr& e);
bool structural_equal(const Expr& a, const Expr& b);

uint64_t structural_hash(const Stmt& s);
bool structural_equal(const Stmt& a, const Stmt& b);

}  // namespace kiln
