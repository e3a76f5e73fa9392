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

namespace {

std::vector<HostTensor> run_lowered(const std::vector<Tensor>& outputs, const LoweredFunc& f,
                                    const std::vector<HostTensor>& inputs) {
  auto kernel = compiler().compile(f);
  std::vector<HostTensor> results;
  for (auto& t : outputs) results.push_back(HostTensor::zeros(t->shape, t->dtype));
  std::vector<const HostTensor*> args;
  for (auto& in : inputs) args.push_back(&in);
  for (auto& out : results) args.push_back(&out);
  run_kernel(*kernel, args);
  return results;
}

}  // namespace

std::vector<HostTensor> run_compiled(const Schedule& schedule,
                                     const std::vector<HostTensor>& inputs) {
  return run_lowered(schedule.outputs(), lower(schedule, "kernel"), inputs);
}

void expect_matches_interpreter(const Schedule& schedule, const std::vector<HostTensor>& inputs,
                                const std::string& what, double atol, double rtol) {
  expect_lowered_matches_interpreter(schedule.outputs(), lower(schedule, "kernel"), inputs, what,
                                     atol, rtol);
}

void expect_lowered_matches_interpreter(const std::vector<Tensor>& outputs, const LoweredFunc& f,
                                        const std::vector<HostTensor>& inputs,
                                        const std::string& what, double atol, double rtol) {
  auto expected = interpret(outputs, inputs);
  auto actual = run_lowered(outputs, f, inputs);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    double a = atol, r = rtol;
    if (a < 0 || r < 0) default_tolerance(expected[i].dtype, &a, &r);
    double err = max_relative_error(actual[i], expected[i], a, r);
    EXPECT_LE(err, 1.0) << what << ": output " << i << " ('" << outputs[i]->name
                        << "') differs from the interpreter (error " << err << " of tolerance)\n"
                        << f;
  }
}

}  // namespace kiln::testing
