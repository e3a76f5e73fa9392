// Private to fleet/. The names and bounds of the program format (described at the top of
// program_codec.cpp) that its writer (program_codec.cpp) and reader (program_decode.cpp) share.
#pragma once

#include <iterator>
#include <string_view>

#include "core/ir/expr.h"

namespace kiln::program_format {

inline constexpr const char* kFormat = "kiln-program";
/// NOTE: bump it when a field changes meaning; a reader takes programs up to its own version.
inline constexpr int kSchemaVersion = 1;
/// Deepest expression written or read. Generous, because aten.cat of n tensors is a select chain
/// n deep (the op cases reach 29 levels); bounded, because the reader recurses, and so do the
/// IR's passes over what it rebuilds and the release of a deep expression: about 250 bytes of
/// stack a level in a release build, several KB under AddressSanitizer (10000 levels overflowed
/// its 8 MB stack there).
inline constexpr int kMaxDepth = 1000;

/// Names of the expression kinds, indexed by ExprKind.
inline constexpr std::string_view kKindNames[] = {"IntImm", "FloatImm", "Var",  "Binary", "Unary",
                                                  "Select", "Cast",     "Load", "Reduce"};
static_assert(std::size(kKindNames) == static_cast<size_t>(ExprKind::Reduce) + 1);
/// The kind that stands for the tensor's own element in a scan step or a scatter update value.
inline constexpr std::string_view kStateKind = "State";

}  // namespace kiln::program_format
