// Every op case of the library, default-scheduled, compiled by the LLVM backend and run on
// random inputs (odd and prime sizes, broadcasting, strided inputs), equals the interpreter.
#include "tests/jit/jit_harness.h"
#include "tests/ops/op_cases.h"

namespace kiln {
namespace {

class OpJit : public ::testing::TestWithParam<size_t> {};

TEST_P(OpJit, MatchesInterpreter) {
  const OpCase& c = op_cases()[GetParam()];
  PreparedCase p = prepare_case(c);
  Schedule s = default_schedule(p.outputs, testing::compiler().target());
  testing::expect_matches_interpreter(s, bind_inputs(p), c.name + " (" + c.op + ")", c.atol,
                                      c.rtol);
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpJit, ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return op_case_test_name(info.param);
                         });

}  // namespace
}  // namespace kiln
