#include "core/tune/verify.h"

#include <algorithm>

#include "core/ir/structural.h"
#include "core/support/error.h"

namespace kiln {

double disagreement_on_fresh_inputs(const Kernel& candidate, const Kernel& reference,
                                    uint64_t seed) {
  const LoweredFunc& f = reference.func();
  const LoweredFunc& g = candidate.func();
  bool same = f.params.size() == g.params.size() && f.num_inputs == g.num_inputs;
  for (size_t i = 0; same && i < f.params.size(); ++i)
    same = f.params[i]->shape == g.params[i]->shape && f.params[i]->dtype == g.params[i]->dtype &&
           f.params[i]->strides == g.params[i]->strides;
  if (!same)
    throw Error(str_cat("kernel '", g.name, "' does not take the parameters of '", f.name, "'"));
  std::vector<HostTensor> inputs;
  for (int i = 0; i < f.num_inputs; ++i) {
    const TensorNode& p = *f.params[i].get();
    inputs.push_back(is_float(p.dtype)
                         ? HostTensor::random(p.shape, p.dtype, seed + i, -1, 1, p.strides)
                         : HostTensor::random(p.shape, p.dtype, seed + i, 0, 0, p.strides));
  }
  auto run = [&](const Kernel& k) {
    std::vector<HostTensor> outputs;
    for (size_t i = f.num_inputs; i < f.params.size(); ++i)
      outputs.push_back(HostTensor::zeros(f.params[i]->shape, f.params[i]->dtype));
    std::vector<const HostTensor*> args;
    for (auto& t : inputs) args.push_back(&t);
    for (auto& t : outputs) args.push_back(&t);
    run_kernel(k, args);
    return outputs;
  };
  std::vector<HostTensor> expected = run(reference), actual = run(candidate);
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double atol, rtol;
    default_tolerance(expected[i].dtype, &atol, &rtol);
    // Summation order differs between schedules: a contraction over K terms drifts by ~sqrt(K)
    // ulps, so f32 is held to 1e-3 as the Measurer does, not torch's 1.3e-6.
    atol = std::max(atol, 1e-3), rtol = std::max(rtol, 1e-3);
    worst = std::max(worst, max_relative_error(actual[i], expected[i], atol, rtol));
  }
  return worst;
}

}  // namespace kiln
