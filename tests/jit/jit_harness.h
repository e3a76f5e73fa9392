// Runs a tensor program through a schedule, the LLVM backend and the reference interpreter, and
// compares the two: the check every end-to-end test makes.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "core/reference/interpreter.h"
#include "core/runtime/host_tensor.h"
#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"

namespace kiln::testing {

/// One compiler for the whole test binary (creating an LLJIT is not free).
const LLVMCompiler& compiler();

/// Random inputs for the placeholders of `outputs`, shaped and strided like them.
std::vector<HostTensor> random_inputs(const std::vector<Tensor>& outputs, uint64_t seed,
                                      double lo = -2, double hi = 2);

/// Runs the compiled kernel of `schedule` on `inputs` and returns the outputs.
std::vector<HostTensor> run_compiled(const Schedule& schedule,
                                     const std::vector<HostTensor>& inputs);

/// Expects every compiled output to match the interpreter within `atol`/`rtol` (defaults: the
/// dtype's PyTorch tolerances). `what` names the case in failure messages.
void expect_matches_interpreter(const Schedule& schedule, const std::vector<HostTensor>& inputs,
                                const std::string& what, double atol = -1, double rtol = -1);

/// The same for a function already lowered from a schedule of `outputs`.
void expect_lowered_matches_interpreter(const std::vector<Tensor>& outputs, const LoweredFunc& f,
                                        const std::vector<HostTensor>& inputs,
                                        const std::string& what, double atol = -1,
                                        double rtol = -1);

}  // namespace kiln::testing
