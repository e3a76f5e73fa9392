#include "tests/jit/jit_harness.h"

#include <algorithm>

namespace kiln::testing {

const LLVMCompiler& compiler() {
  static std::unique_ptr<LLVMCompiler> c = LLVMCompiler::create();
  return *c;
}

std::vector<HostTensor> random_inputs(const std::vector<Tensor>& outputs, uint64_t seed, double lo,
                                      double hi) {
  std::vector<HostTensor> inputs;
  for (auto& p : placeholders_of(outputs))
    inputs.push_back(HostTensor::random(p->shape, p->dtype, seed++, lo, hi, p->strides));
  return inputs;
}

std::vector<HostTensor> run_compiled(const Schedule& schedule,
                                     const std::vector<HostTensor>& inputs) {
  LoweredFunc f = lower(schedule, "kernel");
  auto kernel = compiler().compile(f);
  std::vector<HostTensor> outputs;
  for (auto& t : schedule.outputs()) outputs.push_back(HostTensor::zeros(t->shape, t->dtype));
  std::vector<const HostTensor*> args;
  for (auto& in : inputs) args.push_back(&in);
  for (auto& out : outputs) args.push_back(&out);
  run_kernel(*kernel, args);
  return outputs;
}

void expect_matches_interpreter(const Schedule& schedule, const std::vector<HostTensor>& inputs,
                                const std::string& what, double atol, double rtol) {
  auto expected = interpret(schedule.outputs(), inputs);
  auto actual = run_compiled(schedule, inputs);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    double a = atol, r = rtol;
    if (a < 0 || r < 0) default_tolerance(expected[i].dtype, &a, &r);
    double err = max_relative_error(actual[i], expected[i], a, r);
    EXPECT_LE(err, 1.0) << what << ": output " << i << " ('" << schedule.outputs()[i]->name
                        << "') differs from the interpreter (error " << err << " of tolerance)\n"
                        << lower(schedule, "kernel");
  }
}

}  // namespace kiln::testing
