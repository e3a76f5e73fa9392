// RedisClient: RESP2 itself — commands encoded, replies parsed within bounds — over the byte
// stream of redis_transport.h (a socket, TLS for rediss, every wait bounded by the call's
// deadline).
#include "fleet/redis_client.h"

#include <algorithm>
#include <charconv>
#include <span>
#include <string_view>
#include <utility>

#include "fleet/redis_transport.h"

namespace kiln {
namespace {

using redis::Call;
using redis::fail;
using redis::kChunk;
using redis::Link;
using Kind = RedisError::Kind;

// Bounds on what a hostile or broken server can make us allocate (Redis's own proto-max-bulk-len
// default is 512 MiB) or recurse into.
constexpr int64_t kMaxBulkBytes = int64_t{512} << 20;
constexpr int64_t kMaxArrayCount = int64_t{1} << 24;
constexpr size_t kMaxLineBytes = size_t{1} << 20;
constexpr int kMaxDepth = 64;

/// `s` as a whole decimal integer.
bool parse_int(std::string_view s, int64_t* value) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

void append_command(const std::vector<std::string>& args, std::string* out) {
  *out += str_cat("*", args.size(), "\r\n");
  for (const std::string& arg : args) {
    *out += str_cat("$", arg.size(), "\r\n");
    *out += arg;
    *out += "\r\n";
  }
}

}  // namespace

/// The link and the bytes read from it ahead of the reply being parsed. Null in RedisClient
/// once an error has left the stream in an unknown state.
struct RedisClient::Connection {
  RedisUrl url;
  double timeout_seconds;
  std::unique_ptr<Link> link;
  std::string in;
  size_t in_pos = 0;

  /// Reads one reply. An error reply, also one inside an array, stands as Nil and sets `*error`
  /// to the (first) error's text, so that the rest of the reply is still read.
  RedisReply read_reply(const Call& call, std::string* error, int depth = 0);
  std::string_view read_line(const Call& call);
  /// `size` bytes and the CRLF after them.
  std::string read_bulk(size_t size, const Call& call);
  void fill(const Call& call);
  /// Writes the commands at once and reads a reply for each; errors[i] is command i's error
  /// text, "" when none. A Connection, Timeout or Protocol error closes the link and throws.
  std::vector<RedisReply> exchange(std::span<const std::vector<std::string>> commands,
                                   std::vector<std::string>* errors, Call call);
  /// A call bounded by `timeout_seconds`, or by the connection's bound when that is negative.
  Call bounded_call(double timeout_seconds) const {
    return Call(url, "", timeout_seconds < 0 ? this->timeout_seconds : timeout_seconds);
  }
};

void RedisClient::Connection::fill(const Call& call) {
  if (in_pos == in.size()) {
    in.clear();
    in_pos = 0;
  } else if (in_pos > kChunk) {
    in.erase(0, in_pos);
    in_pos = 0;
  }
  size_t old = in.size();
  in.resize(old + kChunk);
  in.resize(old + link->read_some(in.data() + old, kChunk, call));
}

std::string_view RedisClient::Connection::read_line(const Call& call) {
  for (size_t scanned = 0;;) {  // bytes after in_pos that start no CRLF
    size_t end = in.find("\r\n", in_pos + scanned);
    if (end != std::string::npos) {
      std::string_view line(in.data() + in_pos, end - in_pos);
      in_pos = end + 2;
      return line;
    }
    if (in.size() - in_pos > kMaxLineBytes)
      fail(Kind::Protocol, call, str_cat("a reply line is longer than ", kMaxLineBytes, " bytes"));
    scanned = in.size() - in_pos;
    if (scanned > 0) --scanned;  // the buffer may end in the '\r'
    fill(call);
  }
}

std::string RedisClient::Connection::read_bulk(size_t size, const Call& call) {
  std::string out;
  out.reserve(std::min(size, kChunk));  // grows as bytes come: a length alone costs nothing
  while (out.size() < size) {
    if (in_pos == in.size()) fill(call);
    size_t take = std::min(size - out.size(), in.size() - in_pos);
    out.append(in, in_pos, take);
    in_pos += take;
  }
  while (in.size() - in_pos < 2) fill(call);
  if (in.compare(in_pos, 2, "\r\n") != 0)
    fail(Kind::Protocol, call, "a bulk string does not end with CRLF");
  in_pos += 2;
  return out;
}

RedisReply RedisClient::Connection::read_reply(const Call& call, std::string* error, int depth) {
  if (depth > kMaxDepth)
    fail(Kind::Protocol, call, str_cat("arrays nested deeper than ", kMaxDepth, " levels"));
  std::string_view line = read_line(call);
  if (line.empty()) fail(Kind::Protocol, call, "an empty reply line");
  char type = line[0];
  std::string_view body = line.substr(1);
  RedisReply reply;
  int64_t n = 0;
  switch (type) {
    case '+':
      reply.type = RedisReply::Type::Status;
      reply.text = body;
      return reply;
    case '-':
      if (error->empty()) *error = body.empty() ? "ERR (no message)" : std::string(body);
      return reply;
    case ':':
      if (!parse_int(body, &reply.integer))
        fail(Kind::Protocol, call, str_cat("'", body, "' is not an integer"));
      reply.type = RedisReply::Type::Integer;
      return reply;
    case '$':
      if (!parse_int(body, &n) || n < -1)
        fail(Kind::Protocol, call, str_cat("'", body, "' is not a bulk string length"));
      if (n > kMaxBulkBytes)
        fail(Kind::Protocol, call,
             str_cat("a bulk string of ", n, " bytes (the limit is 512 MiB)"));
      if (n == -1) return reply;
      reply.type = RedisReply::Type::String;
      reply.text = read_bulk(static_cast<size_t>(n), call);
      return reply;
    case '*':
      if (!parse_int(body, &n) || n < -1)
        fail(Kind::Protocol, call, str_cat("'", body, "' is not an array length"));
      if (n > kMaxArrayCount)
        fail(Kind::Protocol, call, str_cat("an array of ", n, " elements (the limit is 2^24)"));
      if (n == -1) return reply;
      reply.type = RedisReply::Type::Array;
      reply.elements.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
      for (int64_t i = 0; i < n; ++i) reply.elements.push_back(read_reply(call, error, depth + 1));
      return reply;
    default:
      fail(Kind::Protocol, call,
           str_cat("not RESP: a reply line starts with '", std::string_view(line).substr(0, 40),
                   "'"));
  }
}

std::vector<RedisReply> RedisClient::Connection::exchange(
    std::span<const std::vector<std::string>> commands, std::vector<std::string>* errors,
    Call call) {
  std::string out;
  for (const std::vector<std::string>& args : commands) {
    KILN_CHECK(!args.empty(), "a Redis command needs at least its name");
    append_command(args, &out);
  }
  call.name =
      commands.size() == 1 ? commands[0][0] : str_cat("pipeline of ", commands.size(), " commands");
  if (!link) fail(Kind::Connection, call, "connection closed after an earlier error");
  std::vector<RedisReply> replies;
  errors->assign(commands.size(), "");
  try {
    link->write_all(out, call);
    for (size_t i = 0; i < commands.size(); ++i) {
      call.name = commands[i][0];
      replies.push_back(read_reply(call, &(*errors)[i]));
    }
  } catch (const RedisError&) {
    link.reset();  // the stream is in an unknown state
    in.clear();
    in_pos = 0;
    throw;
  }
  return replies;
}

RedisClient::RedisClient(std::unique_ptr<Connection> c) : c_(std::move(c)) {}
RedisClient::RedisClient(RedisClient&&) noexcept = default;
RedisClient& RedisClient::operator=(RedisClient&&) noexcept = default;
RedisClient::~RedisClient() = default;

RedisClient RedisClient::connect(const RedisUrl& url, double timeout_seconds) {
  auto c = std::make_unique<Connection>();
  c->url = url;
  c->timeout_seconds = timeout_seconds;
  Call call(url, "connect", timeout_seconds);
  c->link = Link::connect(url, call);
  if (url.tls) {
    call.name = "TLS handshake";
    c->link->start_tls(url, call);
  }

  // One round trip, within what is left of the connect bound. Without a password, PING: a
  // server that wants one says NOAUTH now rather than at the first real command.
  std::vector<std::vector<std::string>> setup;
  if (url.password.empty()) {
    setup.push_back({"PING"});
  } else if (url.user.empty()) {
    setup.push_back({"AUTH", url.password});
  } else {
    setup.push_back({"AUTH", url.user, url.password});
  }
  if (url.db != 0) setup.push_back({"SELECT", std::to_string(url.db)});
  std::vector<std::string> errors;
  c->exchange(setup, &errors, call);
  const std::string& login = errors[0];
  if (!url.password.empty() && !login.empty())
    throw RedisError(Kind::Auth, str_cat("Redis at ", url.redacted(),
                                         ": the server refused the login: ", login));
  if (login.starts_with("NOAUTH"))
    throw RedisError(Kind::Auth,
                     str_cat("Redis at ", url.redacted(),
                             ": the server wants a password and the URL has none (", login, ")"));
  call.name = "connect";
  if (!login.empty()) fail(Kind::Reply, call, str_cat("PING: ", login));
  if (url.db != 0 && !errors[1].empty())
    fail(Kind::Reply, call, str_cat("SELECT ", url.db, ": ", errors[1]));
  return RedisClient(std::move(c));
}

RedisReply RedisClient::command(const std::vector<std::string>& args, double timeout_seconds) {
  KILN_CHECK(c_, "a moved-from RedisClient");
  std::vector<std::string> errors;
  std::vector<RedisReply> replies =
      c_->exchange(std::span(&args, 1), &errors, c_->bounded_call(timeout_seconds));
  if (!errors[0].empty())
    throw RedisError(Kind::Reply,
                     str_cat("Redis at ", c_->url.endpoint(), ": ", args[0], ": ", errors[0]));
  return std::move(replies[0]);
}

std::vector<RedisReply> RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands,
                                              std::vector<std::string>* errors,
                                              double timeout_seconds) {
  KILN_CHECK(c_, "a moved-from RedisClient");
  if (commands.empty()) return {};
  std::vector<std::string> own_errors;
  std::vector<RedisReply> replies =
      c_->exchange(commands, errors ? errors : &own_errors, c_->bounded_call(timeout_seconds));
  if (errors) return replies;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (!own_errors[i].empty())
      throw RedisError(Kind::Reply,
                       str_cat("Redis at ", c_->url.endpoint(), ": ", commands[i][0], " (command ",
                               i + 1, " of ", commands.size(), " in a pipeline): ", own_errors[i]));
  }
  return replies;
}

bool RedisClient::open() const {
  return c_ && c_->link;
}

const RedisUrl& RedisClient::url() const {
  KILN_CHECK(c_, "a moved-from RedisClient");
  return c_->url;
}

}  // namespace kiln
