// The prepared buffers of a kernel (LoweredFunc::prepared: a weight copied into panels), kept
// filled from call to call by a caller that knows which inputs stay the same: a slot whose
// inputs are the model's parameters fills them on its first call and reads them on later ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace kiln {

class Kernel;

/// One kernel's kept prepared buffers. Not thread-safe: a launch that fills them must not run
/// beside any other use of them; launches that fill none (ready()) may run side by side.
class PreparedBuffers {
 public:
  /// Whether launching `kernel` with these buffers changes nothing of them: they are `kernel`'s,
  /// and each of its prepared buffers that reads only inputs marked in `constant` (one flag per
  /// input) is filled already.
  bool ready(const Kernel& kernel, const std::vector<bool>& constant) const;
  /// Forgets what every buffer holds (an input it was filled from changed); keeps the memory.
  void clear();
  /// Kernel::id() of the kernel whose buffers these are, 0 before any launch.
  uint64_t kernel() const { return kernel_; }
  /// How many launches filled one buffer or more here.
  int64_t fills() const { return fills_; }
  /// The bytes of the buffers kept here.
  int64_t bytes() const;

 private:
  friend void launch_with_prepared(const Kernel&, void (*)(void* const*), void* const*,
                                   PreparedBuffers&, const std::vector<bool>&);
  struct Free {
    void operator()(std::byte* p) const;
  };
  uint64_t kernel_ = 0;  ///< Kernel::id() of the kernel that filled them, 0 for none.
  std::vector<std::unique_ptr<std::byte[], Free>> memory_;
  std::vector<int64_t> bytes_;  ///< Of each of memory_ (0 where none is taken).
  std::vector<bool> filled_;
  int64_t fills_ = 0;
};

/// The entry point of a compiled kernel: it takes the parameters' pointers, then a pointer to
/// its prepared block (the fill flags, then one pointer per prepared buffer) or null, for a
/// kernel that takes and fills its prepared buffers itself.
using KernelEntry = void (*)(void* const*);

/// Runs `entry`, the entry point of `kernel`, on the parameters' pointers `args` with a prepared
/// block: the prepared buffers whose inputs are all `constant` come from `kept` and are filled
/// only when it does not hold them yet; the others are taken for this call and filled.
void launch_with_prepared(const Kernel& kernel, KernelEntry entry, void* const* args,
                          PreparedBuffers& kept, const std::vector<bool>& constant);

}  // namespace kiln
