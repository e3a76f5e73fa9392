// The wire protocol between a Measurer and kiln-measure-worker, over the worker's stdin and stdout
// (one socket, so that writing to a dead worker is an error, not a SIGPIPE). Every message is a
// frame: a 12-byte header (magic "KMWF", version, kind, payload size; integers little-endian) and
// a payload of fields in a fixed order. Values are spelled by name where they have one (dtypes,
// statuses). Either side validates every frame it reads and throws MeasureProtocolError on a
// malformed one.
//
//   worker → client  Hello   once, when it is ready
//   client → worker  Task    id, options, parameters, reference object; first use of a task only
//   client → worker  Measure task id, options, candidate object
//   worker → client  Result  status, seconds, spread, error; one per Task and Measure
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/ir/dtype.h"
#include "core/runtime/kernel_compiler.h"
#include "core/support/error.h"
#include "core/tune/measure.h"

namespace kiln {

/// A frame that does not follow the protocol: bad magic, version, kind, size or field.
class MeasureProtocolError : public Error {
 public:
  using Error::Error;
};

inline constexpr uint16_t kMeasureProtocolVersion = 1;
/// Tasks a worker keeps (inputs and reference outputs); the oldest is dropped first. The client
/// mirrors the worker's list, so it knows which tasks to send again.
inline constexpr size_t kWorkerTaskCapacity = 4;

enum class FrameKind : uint16_t { Hello = 1, Task = 2, Measure = 3, Result = 4 };

struct Frame {
  FrameKind kind = FrameKind::Hello;
  std::string payload;
};

/// One kernel parameter as the worker allocates it.
struct ParamLayout {
  DType dtype = DType::F32;
  std::vector<int64_t> shape, strides;
};

/// What a worker needs to measure candidates of one task.
struct MeasureTask {
  uint64_t id = 0;  ///< Unique in the sending process.
  std::vector<ParamLayout> params;
  int num_inputs = 0;
  ObjectCode reference;  ///< Computes the outputs candidates are compared with.

  /// The task of the reference function `f` compiled to `code`, with a fresh id.
  static MeasureTask of(const LoweredFunc& f, ObjectCode code);
  /// A function with these parameters (placeholders p0, p1, ...) and no body: what
  /// KernelCompiler::load_object and measurement_inputs need. Throws MeasureProtocolError when
  /// a parameter is invalid.
  LoweredFunc signature() const;
};

/// One candidate to measure.
struct MeasureRequest {
  uint64_t task_id = 0;
  MeasureOptions options;  ///< threads, repeats, min_repeat_seconds, atol, rtol travel.
  ObjectCode candidate;
};

/// A whole frame (header and payload) of each message.
std::string encode_hello();
std::string encode_task(const MeasureTask& task, const MeasureOptions& options);
std::string encode_request(const MeasureRequest& request);
std::string encode_result(const MeasureResult& result);

/// The payload of a frame of the matching kind; throw MeasureProtocolError when malformed.
MeasureTask decode_task(std::string_view payload, MeasureOptions* options);
MeasureRequest decode_request(std::string_view payload);
MeasureResult decode_result(std::string_view payload);

/// How a read or write on the connection ended.
enum class IoStatus { Done, Closed, TimedOut };

/// Seconds on the steady clock: what deadlines are given in.
double steady_seconds();
inline constexpr double kNoDeadline = std::numeric_limits<double>::infinity();

/// Writes all of `bytes` to `fd` by `deadline`. Closed when the peer is gone; never a SIGPIPE
/// when `fd` is a socket. Throws Error on any other failure.
IoStatus send_all(int fd, std::string_view bytes, double deadline);
/// Reads one frame by `deadline`. Closed at end of file (the peer exited). Throws
/// MeasureProtocolError on a malformed header, Error on other failures.
IoStatus receive_frame(int fd, Frame* frame, double deadline);

}  // namespace kiln
