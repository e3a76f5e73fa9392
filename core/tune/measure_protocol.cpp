#include "core/tune/measure_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/ir/tensor.h"

namespace kiln {

namespace {

constexpr char kMagic[4] = {'K', 'M', 'W', 'F'};
constexpr size_t kHeaderBytes = 12;
/// Far above any object or task, far below what a corrupt size field could ask to allocate.
constexpr uint32_t kMaxPayloadBytes = 1u << 30;
constexpr size_t kMaxRank = 16;
constexpr int64_t kMaxExtent = int64_t{1} << 40;

/// Appends fields to a frame's payload.
class Writer {
 public:
  void u16(uint16_t v) { bytes(v, 2); }
  void u32(uint32_t v) { bytes(v, 4); }
  void u64(uint64_t v) { bytes(v, 8); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    u64(bits);
  }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string frame(FrameKind kind) && {
    Writer header;
    header.out_.append(kMagic, 4);
    header.u16(kMeasureProtocolVersion);
    header.u16(static_cast<uint16_t>(kind));
    if (out_.size() > kMaxPayloadBytes)
      throw MeasureProtocolError(
          str_cat("measure protocol: a payload of ", out_.size(), " bytes is too big"));
    header.u32(static_cast<uint32_t>(out_.size()));
    return std::move(header.out_) + out_;
  }

 private:
  void bytes(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  std::string out_;
};

/// Reads fields of a payload in order; every read is bounds-checked.
class Reader {
 public:
  Reader(std::string_view data, std::string_view what) : data_(data), what_(what) {}
  uint16_t u16() { return static_cast<uint16_t>(bytes(2)); }
  uint32_t u32() { return static_cast<uint32_t>(bytes(4)); }
  uint64_t u64() { return bytes(8); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64() {
    uint64_t bits = u64();
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    need(n, "a string");
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  /// A count of items that each take at least `min_bytes`: bounded by what is left.
  size_t count(size_t min_bytes, std::string_view field) {
    uint64_t n = u64();
    if (n > (data_.size() - pos_) / min_bytes) fail(str_cat(n, " ", field, " cannot fit"));
    return n;
  }
  void finish() {
    if (pos_ != data_.size()) fail(str_cat(data_.size() - pos_, " bytes left over"));
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw MeasureProtocolError(str_cat("measure protocol: malformed ", what_, " frame: ", why));
  }

 private:
  void need(uint64_t n, std::string_view field) const {
    if (n > data_.size() - pos_) fail(str_cat("truncated at byte ", pos_, " (", field, ")"));
  }
  uint64_t bytes(int n) {
    need(n, "a number");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= uint64_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += n;
    return v;
  }
  std::string_view data_, what_;
  size_t pos_ = 0;
};

void write_options(Writer& w, const MeasureOptions& o) {
  w.u32(static_cast<uint32_t>(o.threads));
  w.u32(static_cast<uint32_t>(o.repeats));
  w.f64(o.min_repeat_seconds);
  w.f64(o.atol);
  w.f64(o.rtol);
}

MeasureOptions read_options(Reader& r) {
  MeasureOptions o;
  uint32_t threads = r.u32(), repeats = r.u32();
  if (threads < 1 || threads > 4096) r.fail(str_cat("threads ", threads));
  if (repeats < 1 || repeats > 1000000) r.fail(str_cat("repeats ", repeats));
  o.threads = static_cast<int>(threads);
  o.repeats = static_cast<int>(repeats);
  o.min_repeat_seconds = r.f64();
  o.atol = r.f64();
  o.rtol = r.f64();
  for (double v : {o.min_repeat_seconds, o.atol, o.rtol})
    if (!(v >= 0 && v < 1e9)) r.fail(str_cat("option value ", v));
  return o;
}

void write_object(Writer& w, const ObjectCode& code) {
  w.str(code.entry);
  w.str(code.bytes);
}

ObjectCode read_object(Reader& r) {
  ObjectCode code;
  code.entry = r.str();
  code.bytes = r.str();
  if (code.entry.empty() || code.bytes.empty()) r.fail("empty object code or entry name");
  return code;
}

std::vector<int64_t> read_dims(Reader& r, std::string_view field) {
  std::vector<int64_t> dims(r.count(8, field));
  if (dims.size() > kMaxRank) r.fail(str_cat(dims.size(), " dimensions"));
  for (int64_t& d : dims) {
    d = r.i64();
    if (d < 0 || d > kMaxExtent) r.fail(str_cat(field, " value ", d));
  }
  return dims;
}

IoStatus wait_for(int fd, short events, double deadline) {
  for (;;) {
    double left = deadline - steady_seconds();
    if (left <= 0) return IoStatus::TimedOut;
    int ms = std::isinf(left) ? -1 : static_cast<int>(std::ceil(std::min(left, 1e6) * 1000));
    pollfd p{fd, events, 0};
    int ready = poll(&p, 1, ms);
    if (ready > 0) return IoStatus::Done;  // readable, writable, or hung up: the call says which
    if (ready < 0 && errno != EINTR)
      throw Error(str_cat("measure: poll failed: ", std::strerror(errno)));
  }
}

IoStatus receive_exact(int fd, char* p, size_t n, double deadline) {
  while (n > 0) {
    if (IoStatus s = wait_for(fd, POLLIN, deadline); s != IoStatus::Done) return s;
    ssize_t got = read(fd, p, n);
    if (got == 0) return IoStatus::Closed;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return IoStatus::Closed;
      throw Error(str_cat("measure: read failed: ", std::strerror(errno)));
    }
    p += got, n -= static_cast<size_t>(got);
  }
  return IoStatus::Done;
}

}  // namespace

MeasureTask MeasureTask::of(const LoweredFunc& f, ObjectCode code) {
  static std::atomic<uint64_t> next_id{1};
  MeasureTask task;
  task.id = next_id++;
  for (auto& p : f.params) task.params.push_back({p->dtype, p->shape, p->strides});
  task.num_inputs = f.num_inputs;
  task.reference = std::move(code);
  return task;
}

LoweredFunc MeasureTask::signature() const {
  LoweredFunc f;
  f.name = str_cat("task", id);
  try {
    for (size_t i = 0; i < params.size(); ++i)
      f.params.push_back(
          placeholder(str_cat("p", i), params[i].shape, params[i].dtype, params[i].strides));
  } catch (const IRError& e) {
    throw MeasureProtocolError(str_cat("measure protocol: bad parameter: ", e.what()));
  }
  f.num_inputs = num_inputs;
  return f;
}

std::string encode_hello() {
  return Writer().frame(FrameKind::Hello);
}

std::string encode_task(const MeasureTask& task, const MeasureOptions& options) {
  Writer w;
  w.u64(task.id);
  write_options(w, options);
  w.u64(task.params.size());
  for (const ParamLayout& p : task.params) {
    w.str(dtype_name(p.dtype));
    w.u64(p.shape.size());
    for (int64_t d : p.shape) w.i64(d);
    w.u64(p.strides.size());
    for (int64_t d : p.strides) w.i64(d);
  }
  w.u32(static_cast<uint32_t>(task.num_inputs));
  write_object(w, task.reference);
  return std::move(w).frame(FrameKind::Task);
}

MeasureTask decode_task(std::string_view payload, MeasureOptions* options) {
  Reader r(payload, "task");
  MeasureTask task;
  task.id = r.u64();
  *options = read_options(r);
  task.params.resize(r.count(3 * 8, "parameters"));
  for (ParamLayout& p : task.params) {
    std::string dtype = r.str();
    try {
      p.dtype = dtype_from_name(dtype);
    } catch (const IRError&) {
      r.fail(str_cat("unknown dtype '", dtype, "'"));
    }
    p.shape = read_dims(r, "shape");
    p.strides = read_dims(r, "strides");
    if (p.strides.size() != p.shape.size()) r.fail("strides and shape differ in rank");
  }
  uint32_t num_inputs = r.u32();
  if (num_inputs > task.params.size())
    r.fail(str_cat(num_inputs, " inputs of ", task.params.size(), " parameters"));
  task.num_inputs = static_cast<int>(num_inputs);
  task.reference = read_object(r);
  r.finish();
  return task;
}

std::string encode_request(const MeasureRequest& request) {
  Writer w;
  w.u64(request.task_id);
  write_options(w, request.options);
  write_object(w, request.candidate);
  return std::move(w).frame(FrameKind::Measure);
}

MeasureRequest decode_request(std::string_view payload) {
  Reader r(payload, "measure");
  MeasureRequest request;
  request.task_id = r.u64();
  request.options = read_options(r);
  request.candidate = read_object(r);
  r.finish();
  return request;
}

std::string encode_result(const MeasureResult& result) {
  Writer w;
  w.str(measure_status_name(result.status));
  w.f64(result.seconds);
  w.f64(result.spread);
  w.str(result.error);
  return std::move(w).frame(FrameKind::Result);
}

MeasureResult decode_result(std::string_view payload) {
  Reader r(payload, "result");
  MeasureResult result;
  std::string status = r.str();
  try {
    result.status = measure_status_from_name(status);
  } catch (const Error&) {
    r.fail(str_cat("unknown status '", status, "'"));
  }
  result.seconds = r.f64();
  result.spread = r.f64();
  result.error = r.str();
  if (!(result.seconds >= 0) || !(result.spread >= 0)) r.fail("negative or NaN time");
  r.finish();
  return result;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

IoStatus send_all(int fd, std::string_view bytes, double deadline) {
  while (!bytes.empty()) {
    if (IoStatus s = wait_for(fd, POLLOUT, deadline); s != IoStatus::Done) return s;
    // MSG_NOSIGNAL: a peer that died must not raise SIGPIPE in this (maybe the user's) process.
    // The client's fd is always a socket; a worker run by hand may have a pipe for stdout.
    ssize_t sent = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && errno == ENOTSOCK) sent = write(fd, bytes.data(), bytes.size());
    if (sent < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) return IoStatus::Closed;
      throw Error(str_cat("measure: send failed: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return IoStatus::Done;
}

IoStatus receive_frame(int fd, Frame* frame, double deadline) {
  char header[kHeaderBytes];
  if (IoStatus s = receive_exact(fd, header, kHeaderBytes, deadline); s != IoStatus::Done) return s;
  Reader r(std::string_view(header, kHeaderBytes), "header of a");
  if (std::memcmp(header, kMagic, 4) != 0) r.fail("bad magic (not a kiln-measure-worker frame)");
  r.u32();
  uint16_t version = r.u16(), kind = r.u16();
  uint32_t size = r.u32();
  if (version != kMeasureProtocolVersion)
    r.fail(str_cat("version ", version, ", this side speaks ", kMeasureProtocolVersion));
  if (kind < static_cast<uint16_t>(FrameKind::Hello) ||
      kind > static_cast<uint16_t>(FrameKind::Result))
    r.fail(str_cat("unknown kind ", kind));
  if (size > kMaxPayloadBytes) r.fail(str_cat("payload of ", size, " bytes"));
  frame->kind = static_cast<FrameKind>(kind);
  frame->payload.resize(size);
  return receive_exact(fd, frame->payload.data(), size, deadline);
}

}  // namespace kiln
