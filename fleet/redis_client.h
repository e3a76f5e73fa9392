// A Redis connection that speaks RESP2 itself, over TCP or TLS (OpenSSL), with a bounded time for
// every call: the tuning cache's network level and the fleet's task streams use nothing else.
//
//   RedisClient redis = RedisClient::connect(RedisUrl::parse("redis://:secret@127.0.0.1:6379/0"));
//   redis.command({"SET", "k", "v"});
//   RedisReply r = redis.command({"GET", "k"});  // r.text == "v"
//
// NOTE: one connection is not thread-safe; each thread (or a mutex) owns one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/support/error.h"

namespace kiln {

/// Where a Redis is and how to log in: redis://[[user]:password@]host[:port][/db] or rediss://
/// (TLS) with the same parts. Password and user may be percent-encoded.
struct RedisUrl {
  bool tls = false;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      ///< Empty: AUTH with the password alone (the "default" user).
  std::string password;  ///< Empty: no AUTH.
  int db = 0;
  /// rediss only: a PEM file of CA certificates to verify the server with; empty: the system's.
  /// Taken from the URL's query, `?ca=/path/ca.pem` (also `?insecure=1`: no verification).
  std::string ca_file;
  bool verify_peer = true;

  /// Throws RedisError (kind Url) naming what is malformed: the scheme, the port, the db.
  static RedisUrl parse(const std::string& text);
  /// The URL with the password replaced by "***" (for logs and `kiln doctor`); parse() reads it
  /// back to the same URL but for the password.
  std::string redacted() const;
  /// The URL as parse() reads it back (the password percent-encoded), or redacted().
  std::string text(bool hide_password = false) const;
  /// "host:port", with an IPv6 host in brackets: what errors name.
  std::string endpoint() const;
};

/// Why a Redis call failed.
class RedisError : public Error {
 public:
  enum class Kind : uint8_t {
    Url,         ///< The URL is malformed.
    Connection,  ///< Cannot connect, TLS handshake failed, or the connection broke.
    Timeout,     ///< No answer within the time limit.
    Auth,        ///< The server refused the password or user (or wants one: NOAUTH).
    Reply,       ///< The server answered a command with an error (-ERR ..., -WRONGTYPE ...).
    Protocol,    ///< The answer is not RESP.
  };
  RedisError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// One RESP2 reply.
struct RedisReply {
  enum class Type : uint8_t { Nil, Status, Integer, String, Array };
  Type type = Type::Nil;
  std::string text;  ///< Status and String.
  int64_t integer = 0;
  std::vector<RedisReply> elements;  ///< Array.

  bool is_nil() const { return type == Type::Nil; }
};

/// One connection to one Redis (see the top of this file); movable, not copyable.
class RedisClient {
 public:
  /// Connects within `timeout_seconds` (each later call gets the same bound unless it says
  /// otherwise), completes the TLS handshake for rediss, sends AUTH and SELECT as the URL says.
  /// Without a password it sends PING, so that a server wanting one (NOAUTH) is found here.
  /// Throws RedisError: Connection or Timeout when unreachable or the TLS handshake fails, Auth
  /// for a refused or missing password, Reply when SELECT is refused.
  static RedisClient connect(const RedisUrl& url, double timeout_seconds = 1.0);
  RedisClient(RedisClient&&) noexcept;
  RedisClient& operator=(RedisClient&&) noexcept;
  ~RedisClient();

  /// Sends one command and reads its reply within the call's bound (`timeout_seconds` < 0: the
  /// connection's; a blocking command such as XREADGROUP BLOCK passes its own, longer one).
  /// An error reply throws RedisError kind Reply with the server's text (also an error inside
  /// an array, as EXEC gives; the whole reply is read first). After a Connection, Timeout or
  /// Protocol error the connection is closed: every later call throws Connection.
  RedisReply command(const std::vector<std::string>& args, double timeout_seconds = -1);
  /// Sends the commands at once and reads one reply per command, in order (a pipeline). An
  /// error reply does not lose the others: with `errors`, errors[i] is command i's error text,
  /// "" when it succeeded (a failed command's reply is Nil); without it, the first error throws
  /// Reply once every reply has been read. Connection, Timeout and Protocol as for command().
  std::vector<RedisReply> pipeline(const std::vector<std::vector<std::string>>& commands,
                                   std::vector<std::string>* errors = nullptr,
                                   double timeout_seconds = -1);
  /// Whether the connection is still usable (no Connection, Timeout or Protocol error yet).
  bool open() const;
  /// The URL it was connected with.
  const RedisUrl& url() const;

 private:
  struct Connection;
  explicit RedisClient(std::unique_ptr<Connection> c);
  std::unique_ptr<Connection> c_;
};

}  // namespace kiln
