// Packing for contractions that read an operand with strided columns (x @ W.T of a Linear
// layer): the operand is copied into row-major columns (Schedule::cache_read) before the
// register-tiled loops read it. Private to core/schedule (the default template uses it).
#pragma once

#include <string>
#include <vector>

#include "core/schedule/schedule.h"

namespace kiln {

/// The operands (numbered as Schedule::operands) that contraction stage `c` reads with a stride
/// along its column axis `j_axis`, when it reads every operand contiguously along its innermost
/// reduce axis; empty otherwise. Column vectors of those would be gathers. (Operands of rank 1
/// are never packed.)
std::vector<int64_t> strided_column_operands(const Schedule& s, const std::string& c, int j_axis);

/// Packs each of `operands` of stage `c` into a row-major stage (cache_read), copied as a
/// transposition in square blocks of `block` elements (the block's source lines stay in L1),
/// in parallel over block rows. Returns the new stages, scheduled.
std::vector<std::string> pack_operands(Schedule& s, const std::string& c,
                                       const std::vector<int64_t>& operands, int64_t block);

}  // namespace kiln
