// Object code of the LLVM backend, and measuring in kiln-measure-worker (KILN_MEASURE_WORKER is
// its path): the same verdicts as the forked child, failures that cost only the worker, and a
// worker that is its own executable, not a copy of this process.
#include "core/tune/measure_worker.h"

#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/tune/measure.h"
#include "core/tune/measure_protocol.h"
#include "tests/jit/jit_harness.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

TuningTask matmul64() {
  return {"mm64", {tune_test::matmul(64, 64, 64)}};
}

LoweredFunc default_func(const TuningTask& task) {
  return lower(default_schedule(task.outputs, testing::compiler().target()), task.name);
}

/// The task's default function with its body replaced.
LoweredFunc with_body(const TuningTask& task, const std::function<Stmt(const Tensor& out)>& body) {
  LoweredFunc f = default_func(task);
  f.body = body(f.params.back());
  return f;
}

LoweredFunc out_of_bounds_store(const TuningTask& task) {
  return with_body(task, [](const Tensor& out) {
    return StoreNode::make(out, {Expr(int64_t{1} << 40), Expr(int64_t{1} << 40)},
                           make_const(DType::F32, 1));
  });
}

/// Outputs of `kernel` on the measurement inputs.
std::vector<HostTensor> outputs_of(const Kernel& kernel) {
  return reference_outputs(kernel, measurement_inputs(kernel.func()));
}

void expect_same(const std::vector<HostTensor>& a, const std::vector<HostTensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(max_relative_error(a[i], b[i], 0, 0), 0) << "output " << i;
}

MeasureOptions worker_options() {
  return {.repeats = 2,
          .min_repeat_seconds = 0.001,
          .timeout_seconds = 10,
          .worker = KILN_MEASURE_WORKER};
}

TEST(ObjectCode, LoadedObjectComputesWhatTheCompiledKernelDoes) {
  LoweredFunc f = default_func(matmul64());
  std::unique_ptr<Kernel> compiled = testing::compiler().compile(f);
  ObjectCode code = testing::compiler().compile_object(f);
  EXPECT_EQ(code.bytes.substr(0, 4),
            "\x7f"
            "ELF");
  std::unique_ptr<Kernel> loaded = testing::compiler().load_object(code, f);
  expect_same(outputs_of(*loaded), outputs_of(*compiled));
}

TEST(ObjectCode, LoadsTwiceBesideTheKernelCompiledWithIt) {
  LoweredFunc f = default_func(matmul64());
  // The compiled kernel defines the object's entry symbol in the main JITDylib.
  auto [compiled, code] = testing::compiler().compile_with_object(f);
  auto first = testing::compiler().load_object(code, f);
  auto second = testing::compiler().load_object(code, f);
  std::vector<HostTensor> expected = outputs_of(*compiled);
  expect_same(outputs_of(*first), expected);
  first.reset();  // frees its JITDylib only
  expect_same(outputs_of(*second), expected);
  expect_same(outputs_of(*compiled), expected);
}

TEST(ObjectCode, GarbageAndAWrongEntryAreCompileErrors) {
  LoweredFunc f = default_func(matmul64());
  ObjectCode code = testing::compiler().compile_object(f);
  EXPECT_THROW(testing::compiler().load_object({"not an object file", code.entry}, f),
               CompileError);
  EXPECT_THROW(testing::compiler().load_object({code.bytes, "no_such_symbol"}, f), CompileError);
}

/// The frame `bytes` as the other end of a socket receives it.
Frame received(const std::string& bytes) {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  EXPECT_EQ(send_all(fds[0], bytes, kNoDeadline), IoStatus::Done);
  close(fds[0]);
  Frame frame;
  IoStatus s = IoStatus::Done;
  try {
    s = receive_frame(fds[1], &frame, steady_seconds() + 5);
  } catch (...) {
    close(fds[1]);
    throw;
  }
  close(fds[1]);
  if (s != IoStatus::Done) throw Error("no whole frame");
  return frame;
}

TEST(MeasureProtocol, FramesRoundTripAndMalformedOnesAreErrors) {
  MeasureTask task = MeasureTask::of(default_func(matmul64()), {"\x7f"
                                                                "ELF...",
                                                                "kiln_mm_1"});
  MeasureOptions options{
      .threads = 3, .repeats = 7, .min_repeat_seconds = 0.5, .atol = 1e-5, .rtol = 2e-5};
  Frame frame = received(encode_task(task, options));
  ASSERT_EQ(frame.kind, FrameKind::Task);
  MeasureOptions decoded_options;
  MeasureTask decoded = decode_task(frame.payload, &decoded_options);
  EXPECT_EQ(decoded.id, task.id);
  EXPECT_EQ(decoded.num_inputs, 2);
  ASSERT_EQ(decoded.params.size(), 3u);
  EXPECT_EQ(decoded.params[1].shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(decoded.reference.entry, "kiln_mm_1");
  EXPECT_EQ(decoded_options.threads, 3);
  EXPECT_EQ(decoded_options.rtol, 2e-5);

  MeasureResult result{MeasureStatus::WrongResult, 0.25, 0.5, "output 0 differs"};
  MeasureResult back = decode_result(received(encode_result(result)).payload);
  EXPECT_EQ(back.status, MeasureStatus::WrongResult);
  EXPECT_EQ(back.seconds, 0.25);
  EXPECT_EQ(back.error, "output 0 differs");

  std::string good = encode_request({task.id, options, task.reference});
  EXPECT_EQ(decode_request(received(good).payload).candidate.bytes, task.reference.bytes);
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_THROW(received(bad_magic), MeasureProtocolError);
  std::string bad_version = good;
  bad_version[4] = 9;
  EXPECT_THROW(received(bad_version), MeasureProtocolError);
  std::string payload = received(good).payload;
  EXPECT_THROW(decode_request(payload.substr(0, payload.size() - 1)), MeasureProtocolError);
  EXPECT_THROW(decode_request(payload + "x"), MeasureProtocolError);
  EXPECT_THROW(decode_result(payload), MeasureProtocolError);
  std::string task_payload = received(encode_task(task, options)).payload;
  size_t dtype_at = task_payload.find("f32");
  ASSERT_NE(dtype_at, std::string::npos);
  task_payload.replace(dtype_at, 3, "f31");
  EXPECT_THROW(decode_task(task_payload, &decoded_options), MeasureProtocolError);
}

TEST(MeasureWorker, AgreesWithTheForkedChild) {
  TuningTask task = matmul64();
  MeasureOptions fork_options = worker_options();
  fork_options.worker.clear();
  MeasureResult forked =
      Measurer(task, testing::compiler(), fork_options).measure(default_func(task));
  MeasureResult spawned =
      Measurer(task, testing::compiler(), worker_options()).measure(default_func(task));
  ASSERT_EQ(forked.status, MeasureStatus::Ok) << forked.error;
  ASSERT_EQ(spawned.status, MeasureStatus::Ok) << spawned.error;
  EXPECT_GT(spawned.seconds, 0);
  EXPECT_GE(spawned.spread, 0);
}

TEST(MeasureWorker, MeasuresAKernelWithPreparedBuffers) {
  // x @ w.T of a Linear layer: the kernel packs w into a prepared buffer, which the worker, that
  // knows only the parameters, must still find taken and filled by the kernel itself.
  Tensor x = placeholder("x", {64, 96}, DType::F32), w = placeholder("w", {128, 96}, DType::F32);
  IterVar r = reduce_axis(96, "k");
  Tensor y = compute("y", {64, 128}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(i[0], r.var) * w(i[1], r.var), {r});
  });
  TuningTask task{"linear", {y}};
  ASSERT_FALSE(testing::compiler().compile(default_func(task))->func().prepared.empty());
  MeasureResult spawned =
      Measurer(task, testing::compiler(), worker_options()).measure(default_func(task));
  ASSERT_EQ(spawned.status, MeasureStatus::Ok) << spawned.error;
}

TEST(MeasureWorker, IsItsOwnExecutableNotAFork) {
  TuningTask task = matmul64();
  ASSERT_TRUE(
      Measurer(task, testing::compiler(), worker_options()).measure(default_func(task)).ok());
  std::vector<pid_t> pids = MeasureWorkerPool::of(KILN_MEASURE_WORKER).idle_pids();
  ASSERT_FALSE(pids.empty());
  for (pid_t pid : pids) {
    auto exe = std::filesystem::read_symlink(str_cat("/proc/", pid, "/exe"));
    EXPECT_EQ(exe, std::filesystem::canonical(KILN_MEASURE_WORKER));
    EXPECT_NE(exe, std::filesystem::read_symlink("/proc/self/exe"));
  }
}

TEST(MeasureWorker, FailuresAreResultsAndTheNextMeasurementWorks) {
  TuningTask task = matmul64();
  MeasureOptions options = worker_options();
  options.timeout_seconds = 2;
  Measurer m(task, testing::compiler(), options);
  const MeasureWorkerPool& pool = MeasureWorkerPool::of(KILN_MEASURE_WORKER);
  ASSERT_TRUE(m.measure(default_func(task)).ok());

  MeasureResult crash = m.measure(out_of_bounds_store(task));
  EXPECT_EQ(crash.status, MeasureStatus::Crash) << crash.error;
  EXPECT_NE(crash.error.find("signal"), std::string::npos) << crash.error;
  MeasureResult after_crash = m.measure(default_func(task));
  EXPECT_TRUE(after_crash.ok()) << after_crash.error;

  MeasureResult hang = m.measure(with_body(task, [](const Tensor& out) {
    Var i("i");
    return ForNode::make(i, int64_t{1} << 60, ForKind::Serial,
                         StoreNode::make(out, {Expr(0), Expr(0)}, out(0, 0) + 1.0));
  }));
  EXPECT_EQ(hang.status, MeasureStatus::Timeout) << hang.error;
  for (pid_t pid : pool.idle_pids()) EXPECT_EQ(kill(pid, 0), 0) << "a killed worker is idle";
  MeasureResult after_hang = m.measure(default_func(task));
  EXPECT_TRUE(after_hang.ok()) << after_hang.error;

  MeasureResult wrong = m.measure(with_body(task, [](const Tensor& out) {
    return StoreNode::make(out, {Expr(0), Expr(0)}, make_const(DType::F32, 12345));
  }));
  EXPECT_EQ(wrong.status, MeasureStatus::WrongResult) << wrong.error;
  EXPECT_TRUE(m.measure(default_func(task)).ok());
}

TEST(MeasureWorker, CrashedWorkerIsReplaced) {
  TuningTask task = matmul64();
  Measurer m(task, testing::compiler(), worker_options());
  MeasureWorkerPool& pool = MeasureWorkerPool::of(KILN_MEASURE_WORKER);
  ASSERT_TRUE(m.measure(default_func(task)).ok());
  std::vector<pid_t> before = pool.idle_pids();
  ASSERT_EQ(m.measure(out_of_bounds_store(task)).status, MeasureStatus::Crash);
  std::vector<pid_t> after = pool.idle_pids();
  EXPECT_EQ(after.size() + 1, before.size()) << "the crashed worker went back to the pool";
  for (pid_t pid : after) EXPECT_EQ(std::count(before.begin(), before.end(), pid), 1);
}

TEST(MeasureWorker, CompileErrorsStayInTheCallingProcess) {
  TuningTask task = matmul64();
  Measurer m(task, testing::compiler(), worker_options());
  MeasureResult gpu = m.measure(with_body(task, [](const Tensor& out) {
    Var i("i");
    return ForNode::make(i, 4, ForKind::GpuBlock,
                         StoreNode::make(out, {Expr(0), i}, make_const(DType::F32, 0)));
  }));
  EXPECT_EQ(gpu.status, MeasureStatus::CompileError) << gpu.error;
  TuningTask other{"other", {tune_test::matmul(8, 8, 8)}};
  EXPECT_THROW(m.measure(default_func(other)), Error);
}

TEST(MeasureWorker, MissingExecutableIsAnError) {
  TuningTask task = matmul64();
  MeasureOptions options = worker_options();
  options.worker = "/nonexistent/kiln-measure-worker";
  Measurer m(task, testing::compiler(), options);
  EXPECT_THROW(m.measure(default_func(task)), Error);
}

}  // namespace
}  // namespace kiln
