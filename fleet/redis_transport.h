// Private to fleet/. The byte stream under RedisClient: a non-blocking TCP socket, TLS by OpenSSL
// for rediss, every wait a poll() bounded by the call's deadline. RESP itself is
// redis_client.cpp's.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "fleet/redis_client.h"

namespace kiln::redis {

/// Bytes read from the server, or handed to TLS, at a time: a large value passes through buffers
/// of this size rather than being held twice at once.
inline constexpr size_t kChunk = 64 << 10;

/// One call's deadline, and what its errors name: the server and the command.
struct Call {
  using Clock = std::chrono::steady_clock;

  std::string endpoint;  ///< host:port
  std::string name;      ///< "GET", "connect", "pipeline of 3 commands"
  double seconds;
  Clock::time_point deadline;

  Call(const RedisUrl& url, std::string what, double timeout_seconds);
};

/// Throws RedisError of `kind`: "Redis at <endpoint>: <call name>: <detail>".
[[noreturn]] void fail(RedisError::Kind kind, const Call& call, const std::string& detail);

/// A socket descriptor, closed with its owner.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd();
  int get() const { return fd_; }

 private:
  int fd_;
};

/// The byte stream to the server: a socket, with TLS on top for rediss. Every method throws
/// RedisError (Connection, Timeout) naming the call.
class Link {
 public:
  /// A connected non-blocking TCP socket to the first of the host's addresses that answers.
  /// NOTE: getaddrinfo() cannot be bounded: a numeric address resolves at once, a name waits for
  /// the resolver's own timeouts.
  static std::unique_ptr<Link> connect(const RedisUrl& url, const Call& call);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  /// Verifies the server as the URL says and completes the handshake.
  void start_tls(const RedisUrl& url, const Call& call);
  void write_all(std::string_view data, const Call& call);
  /// At least one byte into `buf`; a closed connection throws Connection.
  size_t read_some(char* buf, size_t size, const Call& call);

 private:
  struct Tls;  ///< OpenSSL's state, which only redis_transport.cpp sees.

  explicit Link(Fd fd);
  void send_all(const char* data, size_t size, const Call& call);
  size_t recv_some(char* buf, size_t size, const Call& call);
  /// Sends what OpenSSL wrote into its outgoing memory BIO.
  void flush_tls(const Call& call);
  /// Hands OpenSSL what the socket has (waiting for it).
  void feed_tls(const Call& call);
  /// Throws Connection with what OpenSSL says; `doing` ("" for the handshake, which the call's
  /// name says) leads the message.
  [[noreturn]] void tls_failed(const std::string& doing, int ssl_error, const Call& call);

  Fd fd_;
  std::unique_ptr<Tls> tls_;  ///< Null: plain TCP.
};

}  // namespace kiln::redis
