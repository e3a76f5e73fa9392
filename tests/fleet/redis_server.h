// A real redis-server for tests, on a free loopback port in a fresh temporary directory, gone
// (process and directory) with its RedisServer. Tests that need Redis skip where there is none.
//
// In a TEST body, declare one (or skip the test, saying why, where redis-server is missing, is
// built without TLS, or does not start):
//
//   TEST(RedisRecordStore, SurvivesARestart) {
//     KILN_REDIS_SERVER_OR_SKIP(redis, {.password = "pw", .persist = true});
//     RedisClient client = RedisClient::connect(RedisUrl::parse(redis->url()));
//     ...
//     redis->stop();   // Redis goes down (SIGTERM; kill() for SIGKILL)...
//     redis->start();  // ...and comes back on the same port, with its data when persist is set
//   }
//
// In a fixture's SetUp(), keep the pointer as a member instead:
//
//   std::string why;
//   redis_ = RedisServer::start_or_skip_reason({}, &why);
//   if (!redis_) GTEST_SKIP() << why;
//
// KILN_REDIS_SERVER names another redis-server binary; otherwise PATH, then /usr/bin,
// /usr/sbin, /usr/local/bin. TLS needs the `openssl` command to make the certificates.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>

namespace kiln::testing {

/// How to run the server.
struct RedisServerOptions {
  std::string password;  ///< requirepass; empty: none.
  /// TLS only (the plain port off), with a certificate for 127.0.0.1 and localhost from a fresh
  /// CA of this server's own; url() is rediss://...?ca=<that CA>.
  bool tls = false;
  /// Append-only file, fsync'd on every write, so that data survives stop()/kill() and start().
  /// Off: nothing is ever written to disk.
  bool persist = false;
};

class RedisServer {
 public:
  /// A started server, or null with `*skip_reason` saying why there cannot be one here.
  static std::unique_ptr<RedisServer> start_or_skip_reason(const RedisServerOptions& options,
                                                           std::string* skip_reason);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// redis://[:password@]127.0.0.1:port, or rediss://...?ca=<CA file> for TLS.
  std::string url() const;
  int port() const { return port_; }
  /// The server's directory: its log (redis.log), append-only file and certificates.
  const std::string& dir() const { return dir_; }
  /// The CA that signed the server's certificate ("" without TLS).
  std::string ca_file() const;
  bool running() const { return pid_ > 0; }

  /// SIGTERM, and waits for the process to end (SIGKILL after 5 s).
  void stop();
  /// SIGKILL, and waits: Redis dies as in a crash.
  void kill();
  /// Starts the server again on the same port and directory after stop() or kill(); waits
  /// until it accepts connections. Throws std::runtime_error (with its log) when it does not.
  void start();

 private:
  RedisServer(std::string binary, RedisServerOptions options, std::string dir, int port)
      : binary_(std::move(binary)),
        options_(std::move(options)),
        dir_(std::move(dir)),
        port_(port) {}
  /// Starts the process and waits until it is ready; "" or why not (with the log's end).
  std::string launch();

  std::string binary_;
  RedisServerOptions options_;
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace kiln::testing

/// Declares `std::unique_ptr<RedisServer> name` started with the RedisServerOptions given as
/// the remaining arguments (none: the defaults), or skips the test with the reason.
// NOTE: GCC 12 warns of "missing initializers" when designated initializers skip a leading
// member ({.tls = true}), which is what they are for; the pragmas keep that quiet here only.
// clang-format off
#define KILN_REDIS_SERVER_OR_SKIP(name, ...)                                                \
  std::string name##_skip_reason;                                                           \
  _Pragma("GCC diagnostic push")                                                            \
  _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")                        \
  std::unique_ptr<::kiln::testing::RedisServer> name =                                      \
      ::kiln::testing::RedisServer::start_or_skip_reason(                                   \
          ::kiln::testing::RedisServerOptions(__VA_ARGS__), &name##_skip_reason);           \
  _Pragma("GCC diagnostic pop")                                                             \
  if (!name) GTEST_SKIP() << name##_skip_reason
// clang-format on
