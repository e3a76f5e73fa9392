// What identifies this build of Kiln's machine code generator, for caches of the code it makes.
#pragma once

#include <string>

namespace kiln {

/// The GNU build ID of the library this function is linked into (a hash of its contents: every
/// change to Kiln's code, the code generator's included, gives another), as hex; where the
/// library has none, its path, size and modification time. Computed once.
const std::string& build_identity();

}  // namespace kiln
