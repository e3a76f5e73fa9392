// kiln-measure-worker: measures candidate kernels for a Measurer in another process (see
// core/tune/measure.h). Speaks core/tune/measure_protocol.h on stdin/stdout, which must be a
// socket; exits when stdin closes or the parent process is gone. Not for use from a shell.
//
// It keeps the inputs and reference outputs of the last few tasks, so a candidate costs one
// object load and its own runs; both are made read-only, so a candidate that writes where it must
// not crashes instead of corrupting what later candidates are checked against.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <thread>

#include "backends/llvm/llvm_compiler.h"
#include "core/runtime/thread_pool.h"
#include "core/support/error.h"
#include "core/tune/measure_protocol.h"

namespace {

using namespace kiln;

/// A task as the worker holds it.
struct HeldTask {
  uint64_t id = 0;
  LoweredFunc signature;
  std::vector<HostTensor> inputs, reference;
};

/// A copy of `t` in pages of its own, read-only.
HostTensor read_only_copy(const HostTensor& t) {
  size_t bytes = static_cast<size_t>(t.storage_elements) * dtype_bytes(t.dtype);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t length = std::max<size_t>((bytes + page - 1) / page * page, page);
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw Error(str_cat("mmap of ", length, " bytes failed: ", std::strerror(errno)));
  std::memcpy(p, t.storage.get(), bytes);
  if (mprotect(p, length, PROT_READ) != 0)
    throw Error(str_cat("mprotect failed: ", std::strerror(errno)));
  HostTensor copy = t;
  copy.storage = std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p),
                                              [length](std::byte* q) { munmap(q, length); });
  return copy;
}

/// Exits when the process that started this one is gone: a candidate that hangs must not outlive
/// a client that was killed before it could kill this worker.
void exit_with_parent() {
  pid_t parent = getppid();
  std::thread([parent] {
    while (getppid() == parent) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    _exit(0);
  }).detach();
}

class Worker {
 public:
  explicit Worker(const KernelCompiler& compiler) : compiler_(compiler) {}

  /// Answers one Task or Measure frame. Throws MeasureProtocolError when it is malformed.
  MeasureResult answer(const Frame& frame) {
    if (frame.kind == FrameKind::Task) {
      MeasureOptions options;
      MeasureTask task = decode_task(frame.payload, &options);
      use_threads(options.threads);
      return hold(task);
    }
    if (frame.kind != FrameKind::Measure)
      throw MeasureProtocolError("measure protocol: the worker takes only task and measure frames");
    MeasureRequest request = decode_request(frame.payload);
    const HeldTask& task = find(request.task_id);
    use_threads(request.options.threads);
    std::unique_ptr<Kernel> kernel;
    try {
      kernel = compiler_.load_object(request.candidate, task.signature);
    } catch (const Error& e) {
      return {MeasureStatus::CompileError, 0, 0, e.what()};
    }
    return check_and_time(*kernel, task.inputs, task.reference, request.options);
  }

 private:
  MeasureResult hold(const MeasureTask& task) {
    HeldTask held{task.id, task.signature(), {}, {}};
    std::unique_ptr<Kernel> reference;
    try {
      reference = compiler_.load_object(task.reference, held.signature);
    } catch (const Error& e) {
      return {MeasureStatus::CompileError, 0, 0, e.what()};
    }
    for (HostTensor& t : measurement_inputs(held.signature))
      held.inputs.push_back(read_only_copy(t));
    for (HostTensor& t : reference_outputs(*reference, held.inputs))
      held.reference.push_back(read_only_copy(t));
    tasks_.push_back(std::move(held));
    if (tasks_.size() > kWorkerTaskCapacity) tasks_.pop_front();  // as the client expects
    return {};
  }

  const HeldTask& find(uint64_t id) const {
    for (const HeldTask& t : tasks_)
      if (t.id == id) return t;
    throw MeasureProtocolError(str_cat("measure protocol: task ", id, " was never sent"));
  }

  void use_threads(int threads) {
    if (pool_ && pool_->num_threads() == threads) return;
    set_thread_pool(nullptr);
    pool_ = make_thread_pool(threads);
    set_thread_pool(pool_.get());
  }

  const KernelCompiler& compiler_;
  std::deque<HeldTask> tasks_;
  std::unique_ptr<ThreadPool> pool_;
};

int serve(int in, int out) {
  std::unique_ptr<LLVMCompiler> compiler = LLVMCompiler::create();
  Worker worker(*compiler);
  if (send_all(out, encode_hello(), kNoDeadline) != IoStatus::Done) return 0;
  for (;;) {
    Frame frame;
    MeasureResult result;
    bool malformed = false;
    try {
      if (receive_frame(in, &frame, kNoDeadline) != IoStatus::Done) return 0;  // the client is done
      result = worker.answer(frame);
    } catch (const MeasureProtocolError& e) {
      // The stream cannot be trusted past a bad frame: answer, then exit.
      result = {MeasureStatus::Crash, 0, 0,
                str_cat("the worker got a malformed request: ", e.what())};
      malformed = true;
    } catch (const std::exception& e) {
      // E.g. no memory for a task's tensors: that request fails, the worker goes on.
      result = {MeasureStatus::Crash, 0, 0, str_cat("the worker failed: ", e.what())};
    }
    if (send_all(out, encode_result(result), kNoDeadline) != IoStatus::Done) return 0;
    if (malformed) return 2;
  }
}

}  // namespace

int main() {
  // The protocol owns stdout: anything else that prints (LLVM, a kernel) goes to stderr.
  int out = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (out < 0 || dup2(2, 1) < 0) {
    std::perror("kiln-measure-worker: setting up stdout");
    return 1;
  }
  exit_with_parent();
  try {
    return serve(0, out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-measure-worker: %s\n", e.what());
    return 1;
  }
}
