// The CUDA backend on a GPU: every op case of the library through the GPU schedule, CUDA C,
// NVRTC for the device's own architecture and the driver API, against the reference
// interpreter. It needs neither GoogleTest nor LLVM, XGBoost or SQLite, so that it builds on the
// GPU machine (scripts/gpu_check.sh).
//
//   kiln-gpu-check [NAME_PART]   # only the cases whose name contains NAME_PART
//
// Exit status: 0 when every case that has a GPU schedule matches, 1 on a mismatch or an error,
// 77 where there is no GPU or no NVRTC (ctest counts that as skipped).
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/cuda_driver.h"
#include "backends/cuda/nvrtc.h"
#include "core/reference/interpreter.h"
#include "core/schedule/lower.h"
#include "core/templates/gpu_schedule.h"
#include "tests/ops/op_cases.h"

namespace kiln {
namespace {

constexpr int kSkipped = 77;

enum class Outcome { Match, Mismatch, NoSchedule, NoCudaForm };

/// Runs `c` on the GPU and compares; prints what went wrong.
Outcome check(const OpCase& c, const cuda::CudaDevice& device, const cuda::Nvrtc& nvrtc,
              const std::string& arch) {
  PreparedCase p = prepare_case(c);
  std::optional<Schedule> s;
  try {
    s.emplace(gpu_schedule(p.outputs));
  } catch (const ScheduleError&) {
    return Outcome::NoSchedule;
  }
  LoweredFunc f = lower(*s, "kernel");
  std::optional<cuda::CudaModule> m;
  try {
    m.emplace(cuda::cuda_source(f));
  } catch (const CompileError& e) {
    if (std::string(e.what()).find("has no CUDA form yet") == std::string::npos) throw;
    return Outcome::NoCudaForm;
  }
  std::string cubin = nvrtc.compile_cubin(m->source, arch, c.name + ".cu");

  std::vector<HostTensor> inputs = bind_inputs(p), outputs;
  std::vector<cuda::DeviceBuffer> buffers;
  std::vector<uint64_t> args;
  for (const HostTensor& in : inputs) {
    size_t bytes = (in.storage_elements - in.offset) * dtype_bytes(in.dtype);
    buffers.push_back(device.allocate(bytes));
    buffers.back().upload(in.data(), bytes);
  }
  for (const Tensor& t : p.outputs) {
    outputs.push_back(HostTensor::zeros(t->shape, t->dtype));
    buffers.push_back(device.allocate(outputs.back().numel() * dtype_bytes(t->dtype)));
  }
  for (const Tensor& t : m->workspace)
    buffers.push_back(device.allocate(t->numel() * dtype_bytes(t->dtype)));
  for (const cuda::DeviceBuffer& b : buffers) args.push_back(b.ptr());
  device.run(*m, cubin, args);
  for (size_t i = 0; i < outputs.size(); ++i)
    buffers[inputs.size() + i].download(outputs[i].data(),
                                        outputs[i].numel() * dtype_bytes(outputs[i].dtype));

  std::vector<HostTensor> expected = interpret(p.outputs, inputs);
  bool match = true;
  for (size_t i = 0; i < outputs.size(); ++i) {
    double atol = c.atol, rtol = c.rtol;
    if (atol < 0 || rtol < 0) default_tolerance(expected[i].dtype, &atol, &rtol);
    double err = max_relative_error(outputs[i], expected[i], atol, rtol);
    if (err > 1.0) {
      std::printf("MISMATCH %s (%s): output %zu off by %.3g of the tolerance\n", c.name.c_str(),
                  c.op.c_str(), i, err);
      match = false;
    }
  }
  return match ? Outcome::Match : Outcome::Mismatch;
}

int run(const std::string& filter) {
  std::string why;
  std::optional<cuda::CudaDevice> device = cuda::CudaDevice::open(&why);
  if (!device) {
    std::printf("kiln-gpu-check: skipped: %s\n", why.c_str());
    return kSkipped;
  }
  std::optional<cuda::Nvrtc> nvrtc = cuda::Nvrtc::load(&why);
  if (!nvrtc) {
    std::printf("kiln-gpu-check: skipped: %s\n", why.c_str());
    return kSkipped;
  }
  std::string arch = device->arch();
  std::printf("kiln-gpu-check: %s (%s), NVRTC %s\n", device->name().c_str(), arch.c_str(),
              nvrtc->version().c_str());
  int counts[4] = {}, errors = 0;
  for (const OpCase& c : op_cases()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    try {
      ++counts[static_cast<int>(check(c, *device, *nvrtc, arch))];
    } catch (const std::exception& e) {
      ++errors;
      std::printf("ERROR %s (%s): %s\n", c.name.c_str(), c.op.c_str(), e.what());
    }
  }
  std::printf(
      "kiln-gpu-check: %d match, %d mismatch, %d errors; not run: %d without a GPU schedule "
      "(scatters), %d without a CUDA form\n",
      counts[0], counts[1], errors, counts[2], counts[3]);
  return counts[1] || errors ? 1 : 0;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  return kiln::run(argc > 1 ? argv[1] : "");
}
