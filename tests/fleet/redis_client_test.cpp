// RedisClient against a real redis-server (skipped where there is none), and against sockets
// of our own that never answer or answer with something that is not RESP: every failure is a
// RedisError of the kind that says what went wrong, within the time bound, never a hang.
#include "fleet/redis_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/fleet/redis_server.h"
#include "tests/support/error_message.h"

namespace kiln {
namespace {

using testing::error_message;
using Kind = RedisError::Kind;
using Type = RedisReply::Type;
using Clock = std::chrono::steady_clock;
using namespace std::string_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The kind of RedisError `fn` throws; fails the test when it throws none.
template <typename Fn>
Kind error_kind(Fn&& fn) {
  try {
    fn();
  } catch (const RedisError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no RedisError";
  return Kind::Url;
}

/// A loopback socket that listens (the kernel completes connections) and never says a word.
class SilentServer {
 public:
  SilentServer() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { close(fd_); }
  int port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  int port_ = 0;
};

/// A server that accepts one connection and answers the n-th thing it reads with replies[n],
/// byte for byte, in the pieces given (10 ms apart), then stays silent until it is destroyed.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::vector<std::string>> replies)
      : thread_([this, replies = std::move(replies)] { serve(replies); }) {}
  ~ScriptedServer() {
    done_ = true;
    thread_.join();
  }
  std::string url() const { return str_cat("redis://127.0.0.1:", listener_.port()); }

 private:
  /// Waits for `fd` to be readable, giving up when the test is done.
  bool readable(int fd) {
    while (!done_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }
  void serve(const std::vector<std::vector<std::string>>& replies) {
    if (!readable(listener_.fd())) return;
    int fd = accept(listener_.fd(), nullptr, nullptr);
    char buf[4096];
    for (const std::vector<std::string>& reply : replies) {
      if (!readable(fd) || recv(fd, buf, sizeof buf, 0) <= 0) break;
      for (const std::string& piece : reply) {
        send(fd, piece.data(), piece.size(), MSG_NOSIGNAL);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    readable(fd);
    close(fd);
  }

  SilentServer listener_;
  std::atomic<bool> done_ = false;
  std::thread thread_;
};

// --- RedisUrl ---

TEST(RedisUrl, ReadsEveryPart) {
  RedisUrl url = RedisUrl::parse(
      "rediss://alice:p%40ss%3Aw%2Fd@cache.example.com:6380/3?ca=/etc/ca%20dir/ca.pem");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.user, "alice");
  EXPECT_EQ(url.password, "p@ss:w/d");
  EXPECT_EQ(url.host, "cache.example.com");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.db, 3);
  EXPECT_EQ(url.ca_file, "/etc/ca dir/ca.pem");
  EXPECT_TRUE(url.verify_peer);
}

TEST(RedisUrl, DefaultsAndPasswordAlone) {
  RedisUrl plain = RedisUrl::parse("redis://localhost");
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.host, "localhost");
  EXPECT_EQ(plain.port, 6379);
  EXPECT_EQ(plain.db, 0);
  EXPECT_EQ(plain.user, "");
  EXPECT_EQ(plain.password, "");

  RedisUrl password = RedisUrl::parse("REDIS://:secret@10.0.0.7/");
  EXPECT_EQ(password.user, "");
  EXPECT_EQ(password.password, "secret");
  EXPECT_EQ(password.host, "10.0.0.7");
  EXPECT_EQ(password.db, 0);
}

TEST(RedisUrl, Ipv6AndInsecure) {
  RedisUrl url = RedisUrl::parse("rediss://[::1]:7000/2?insecure=1");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 7000);
  EXPECT_EQ(url.db, 2);
  EXPECT_FALSE(url.verify_peer);
  EXPECT_EQ(url.endpoint(), "[::1]:7000");
  EXPECT_EQ(RedisUrl::parse("redis://[::1]").port, 6379);
}

TEST(RedisUrl, NamesEachMalformedPart) {
  struct Case {
    const char* text;
    const char* part;
  };
  for (const Case& c : std::vector<Case>{
           {"http://h", "the scheme"},
           {"127.0.0.1:6379", "the scheme"},
           {"redis://", "the host"},
           {"redis://:pw@:6379", "the host"},
           {"redis://h st", "the host"},
           {"redis://::1", "the host"},
           {"redis://[::1", "the host"},
           {"redis://[::1]x", "the host"},
           {"redis://[not-v6]", "the host"},
           {"redis://h:", "the port"},
           {"redis://h:0", "the port"},
           {"redis://h:65536", "the port"},
           {"redis://h:12ab", "the port"},
           {"redis://h:-1", "the port"},
           {"redis://h/x", "the db"},
           {"redis://h/-1", "the db"},
           {"redis://h/1/2", "the db"},
           {"redis://alice@h", "the user"},
           {"redis://a%4@h", "the user"},
           {"redis://:pa%zzss@h", "the password"},
           {"redis://alice:@h", "the password"},
           {"rediss://h?cert=x", "the query"},
           {"rediss://h?ca=", "the query's ca"},
           {"rediss://h?insecure=maybe", "the query's insecure"},
           {"redis://h?ca=/x.pem", "the query"},
       }) {
    std::string message = error_message<RedisError>([&] { RedisUrl::parse(c.text); });
    EXPECT_NE(message.find(c.part), std::string::npos) << c.text << " -> " << message;
    EXPECT_EQ(error_kind([&] { RedisUrl::parse(c.text); }), Kind::Url) << c.text;
  }
}

TEST(RedisUrl, ErrorsNeverShowThePassword) {
  std::string message =
      error_message<RedisError>([] { RedisUrl::parse("redis://:hunter2@h:99999"); });
  EXPECT_NE(message.find("the port"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(RedisUrl, RedactedHidesOnlyThePassword) {
  EXPECT_EQ(RedisUrl::parse("redis://bob:hunter2@h:1/2").redacted(), "redis://bob:***@h:1/2");
  EXPECT_EQ(RedisUrl::parse("redis://:hunter2@h").redacted(), "redis://:***@h:6379");
  EXPECT_EQ(RedisUrl::parse("redis://h").redacted(), "redis://h:6379");
  EXPECT_EQ(RedisUrl::parse("rediss://[::1]:5/1?ca=/a%20b/ca.pem&insecure=1").redacted(),
            "rediss://[::1]:5/1?ca=/a%20b/ca.pem&insecure=1");
  // Read back, it is the same URL but for the password.
  RedisUrl url = RedisUrl::parse("rediss://b%40b:pw@h:7/3?ca=/ca.pem");
  RedisUrl back = RedisUrl::parse(url.redacted());
  EXPECT_EQ(back.user, "b@b");
  EXPECT_EQ(back.password, "***");
  EXPECT_EQ(back.redacted(), url.redacted());
}

// --- Replies from a real server ---

TEST(RedisClient, BinaryValuesRoundTrip) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  std::string key("k\0\r\n", 4);
  std::string value("a\0b\r\nc\xff\r", 8);
  RedisReply ok = redis.command({"SET", key, value});
  EXPECT_EQ(ok.type, Type::Status);
  EXPECT_EQ(ok.text, "OK");
  RedisReply got = redis.command({"GET", key});
  EXPECT_EQ(got.type, Type::String);
  EXPECT_EQ(got.text, value);
  redis.command({"SET", "empty", ""});
  EXPECT_EQ(redis.command({"GET", "empty"}).type, Type::String);
  EXPECT_EQ(redis.command({"GET", "empty"}).text, "");
  std::string big(3 << 20, 'x');  // over many reads
  big[12345] = '\n';
  redis.command({"SET", "big", big});
  EXPECT_EQ(redis.command({"GET", "big"}).text, big);
}

TEST(RedisClient, IntegersAndNil) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  RedisReply one = redis.command({"INCR", "n"});
  EXPECT_EQ(one.type, Type::Integer);
  EXPECT_EQ(one.integer, 1);
  EXPECT_EQ(redis.command({"INCRBY", "n", "-9000000000"}).integer, -8999999999);
  EXPECT_TRUE(redis.command({"GET", "missing"}).is_nil());
  // A blocking pop that times out answers with a nil array (*-1).
  EXPECT_TRUE(redis.command({"BLPOP", "missing", "0.01"}).is_nil());
}

TEST(RedisClient, ArraysAndNestedArrays) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  redis.command({"RPUSH", "list", "a", "", "c"});
  RedisReply list = redis.command({"LRANGE", "list", "0", "-1"});
  ASSERT_EQ(list.type, Type::Array);
  ASSERT_EQ(list.elements.size(), 3u);
  EXPECT_EQ(list.elements[1].text, "");
  EXPECT_EQ(list.elements[2].text, "c");
  RedisReply none = redis.command({"LRANGE", "nothing", "0", "-1"});
  EXPECT_EQ(none.type, Type::Array);
  EXPECT_TRUE(none.elements.empty());

  redis.command({"XADD", "stream", "1-1", "field", "value", "f2", "v2"});
  RedisReply entries = redis.command({"XRANGE", "stream", "-", "+"});
  ASSERT_EQ(entries.elements.size(), 1u);
  const RedisReply& entry = entries.elements[0];
  ASSERT_EQ(entry.elements.size(), 2u);
  EXPECT_EQ(entry.elements[0].text, "1-1");
  ASSERT_EQ(entry.elements[1].type, Type::Array);
  ASSERT_EQ(entry.elements[1].elements.size(), 4u);
  EXPECT_EQ(entry.elements[1].elements[3].text, "v2");
}

TEST(RedisClient, ErrorReplyIsKindReplyWithTheServersText) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  redis.command({"SET", "s", "text"});
  EXPECT_EQ(error_kind([&] { redis.command({"LPUSH", "s", "x"}); }), Kind::Reply);
  std::string message = error_message<RedisError>([&] { redis.command({"LPUSH", "s", "x"}); });
  EXPECT_NE(message.find("WRONGTYPE"), std::string::npos) << message;
  EXPECT_NE(message.find("LPUSH"), std::string::npos) << message;
  // The connection goes on.
  EXPECT_TRUE(redis.open());
  EXPECT_EQ(redis.command({"GET", "s"}).text, "text");
  // An error inside an array (EXEC) is an error too, and the stream stays in step.
  redis.command({"MULTI"});
  redis.command({"INCR", "s"});
  redis.command({"SET", "after", "1"});
  message = error_message<RedisError>([&] { redis.command({"EXEC"}); });
  EXPECT_NE(message.find("not an integer"), std::string::npos) << message;
  EXPECT_EQ(redis.command({"GET", "after"}).text, "1");
}

TEST(RedisClient, PipelineKeepsTheRepliesAroundAFailure) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  std::vector<std::vector<std::string>> commands = {
      {"SET", "a", "1"}, {"LPUSH", "a", "x"}, {"INCR", "a"}, {"GET", "a"}};
  std::vector<std::string> errors;
  std::vector<RedisReply> replies = redis.pipeline(commands, &errors);
  ASSERT_EQ(replies.size(), 4u);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(replies[0].text, "OK");
  EXPECT_NE(errors[1].find("WRONGTYPE"), std::string::npos) << errors[1];
  EXPECT_TRUE(replies[1].is_nil());
  EXPECT_EQ(errors[2], "");
  EXPECT_EQ(replies[2].integer, 2);
  EXPECT_EQ(replies[3].text, "2");

  // Without `errors`: the first error throws, after every reply has been read.
  std::string message = error_message<RedisError>([&] { redis.pipeline(commands); });
  EXPECT_NE(message.find("command 2 of 4"), std::string::npos) << message;
  EXPECT_EQ(redis.command({"GET", "a"}).text, "2");  // SET a 1 again, then INCR
  EXPECT_TRUE(redis.pipeline({}).empty());
}

TEST(RedisClient, SelectsTheUrlsDb) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient db3 = RedisClient::connect(RedisUrl::parse(server->url() + "/3"));
  db3.command({"SET", "k", "in 3"});
  RedisClient db0 = RedisClient::connect(RedisUrl::parse(server->url()));
  EXPECT_TRUE(db0.command({"GET", "k"}).is_nil());
  EXPECT_EQ(RedisClient::connect(RedisUrl::parse(server->url() + "/3")).command({"GET", "k"}).text,
            "in 3");
  std::string message = error_message<RedisError>(
      [&] { RedisClient::connect(RedisUrl::parse(server->url() + "/999")); });
  EXPECT_NE(message.find("SELECT 999"), std::string::npos) << message;
}

// --- Login ---

TEST(RedisClient, RightPasswordLogsIn) {
  KILN_REDIS_SERVER_OR_SKIP(server, {.password = "s3cret:/@"});
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  redis.command({"SET", "k", "v"});
  // AUTH with a user too: the default user has the requirepass password.
  RedisUrl with_user = RedisUrl::parse(server->url());
  with_user.user = "default";
  EXPECT_EQ(RedisClient::connect(with_user).command({"GET", "k"}).text, "v");
}

TEST(RedisClient, WrongPasswordIsAuthAtConnect) {
  KILN_REDIS_SERVER_OR_SKIP(server, {.password = "right"});
  RedisUrl url = RedisUrl::parse(server->url());
  url.password = "wrong-one";
  EXPECT_EQ(error_kind([&] { RedisClient::connect(url); }), Kind::Auth);
  std::string message = error_message<RedisError>([&] { RedisClient::connect(url); });
  EXPECT_NE(message.find(url.redacted()), std::string::npos) << message;
  EXPECT_EQ(message.find("wrong-one"), std::string::npos) << message;
}

TEST(RedisClient, MissingPasswordIsAuthAtConnect) {
  KILN_REDIS_SERVER_OR_SKIP(server, {.password = "right"});
  RedisUrl url = RedisUrl::parse(server->url());
  url.password.clear();
  EXPECT_EQ(error_kind([&] { RedisClient::connect(url); }), Kind::Auth);
  std::string message = error_message<RedisError>([&] { RedisClient::connect(url); });
  EXPECT_NE(message.find("wants a password"), std::string::npos) << message;
}

// --- Failures: refused, silent, killed, not RESP ---

TEST(RedisClient, ClosedPortIsConnectionPromptly) {
  int port = SilentServer().port();  // closed again: nothing listens there now
  auto start = Clock::now();
  std::string message = error_message<RedisError>(
      [&] { RedisClient::connect(RedisUrl::parse(str_cat("redis://127.0.0.1:", port)), 2.0); });
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_NE(message.find(str_cat("127.0.0.1:", port)), std::string::npos) << message;
  EXPECT_EQ(error_kind([&] {
              RedisClient::connect(RedisUrl::parse(str_cat("redis://127.0.0.1:", port)));
            }),
            Kind::Connection);
}

TEST(RedisClient, SilentServerTimesOut) {
  SilentServer silent;
  RedisUrl url = RedisUrl::parse(str_cat("redis://127.0.0.1:", silent.port()));
  auto start = Clock::now();
  Kind kind = error_kind([&] { RedisClient::connect(url, 0.3); });
  EXPECT_LT(seconds_since(start), 0.6);
  EXPECT_GE(seconds_since(start), 0.29);
  EXPECT_EQ(kind, Kind::Timeout);
  std::string message = error_message<RedisError>([&] { RedisClient::connect(url, 0.3); });
  EXPECT_NE(message.find(str_cat("127.0.0.1:", silent.port())), std::string::npos) << message;
  EXPECT_NE(message.find("PING"), std::string::npos) << message;
}

TEST(RedisClient, TimeoutClosesTheConnection) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()), 0.2);
  // A blocking command may ask for a longer bound than the connection's...
  EXPECT_TRUE(redis.command({"BLPOP", "nothing", "0.4"}, 3.0).is_nil());
  // ...and without it times out, naming the command.
  auto start = Clock::now();
  std::string message =
      error_message<RedisError>([&] { redis.command({"BLPOP", "nothing", "0"}); });
  EXPECT_LT(seconds_since(start), 0.4);
  EXPECT_NE(message.find("BLPOP"), std::string::npos) << message;
  EXPECT_NE(message.find("no answer within 0.2 s"), std::string::npos) << message;
  EXPECT_FALSE(redis.open());
  EXPECT_EQ(error_kind([&] { redis.command({"PING"}); }), Kind::Connection);
  message = error_message<RedisError>([&] { redis.command({"PING"}); });
  EXPECT_NE(message.find("closed after an earlier error"), std::string::npos) << message;
}

TEST(RedisClient, KilledServerIsConnectionErrorThenComesBack) {
  KILN_REDIS_SERVER_OR_SKIP(server);
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server->url()));
  redis.command({"SET", "k", "v"});
  server->kill();
  EXPECT_EQ(error_kind([&] { redis.command({"GET", "k"}); }), Kind::Connection);
  EXPECT_FALSE(redis.open());
  EXPECT_EQ(error_kind([&] { redis.command({"GET", "k"}); }), Kind::Connection);
  EXPECT_EQ(error_kind([&] { RedisClient::connect(RedisUrl::parse(server->url())); }),
            Kind::Connection);
  server->start();
  RedisClient again = RedisClient::connect(RedisUrl::parse(server->url()));
  EXPECT_TRUE(again.command({"GET", "k"}).is_nil());  // nothing persisted
}

TEST(RedisClient, PersistentServerKeepsItsDataAcrossARestart) {
  KILN_REDIS_SERVER_OR_SKIP(server, {.persist = true});
  RedisClient::connect(RedisUrl::parse(server->url())).command({"SET", "k", "kept"});
  server->stop();
  server->start();
  EXPECT_EQ(RedisClient::connect(RedisUrl::parse(server->url())).command({"GET", "k"}).text,
            "kept");
}

TEST(RedisClient, HostileOrBrokenRepliesAreProtocolErrors) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "*1\r\n";
  for (const std::string& reply : {"$600000000\r\n"s, "*20000000\r\n"s, "hello\r\n"s, ":12x\r\n"s,
                                   "$3\r\nabcd\r\n"s, "$-2\r\n"s, deep}) {
    ScriptedServer server({{"+PONG\r\n"}, {reply}});
    RedisClient redis = RedisClient::connect(RedisUrl::parse(server.url()), 1.0);
    EXPECT_EQ(error_kind([&] { redis.command({"GET", "k"}); }), Kind::Protocol) << reply;
    EXPECT_FALSE(redis.open()) << reply;
    EXPECT_EQ(error_kind([&] { redis.command({"GET", "k"}); }), Kind::Connection);
  }
}

TEST(RedisClient, RepliesSplitAcrossReadsAreWhole) {
  ScriptedServer server({{"+PONG\r\n"}, {"*2\r\n$3\r\nab", "c\r", "\n:", "5\r\n"}});
  RedisClient redis = RedisClient::connect(RedisUrl::parse(server.url()));
  RedisReply reply = redis.command({"ANY"});
  ASSERT_EQ(reply.elements.size(), 2u);
  EXPECT_EQ(reply.elements[0].text, "abc");
  EXPECT_EQ(reply.elements[1].integer, 5);
}

TEST(RedisClient, ReplyThatNeverEndsTimesOut) {
  ScriptedServer server({{"+PO"}});
  EXPECT_EQ(error_kind([&] { RedisClient::connect(RedisUrl::parse(server.url()), 0.2); }),
            Kind::Timeout);
}

// --- TLS ---

TEST(RedisClient, TlsRoundTripWithTheServersCa) {
  KILN_REDIS_SERVER_OR_SKIP(server, {.password = "pw", .tls = true});
  RedisUrl url = RedisUrl::parse(server->url());
  ASSERT_TRUE(url.tls);
  RedisClient redis = RedisClient::connect(url);
  std::string big(200000, 'z');
  redis.command({"SET", "k", big});
  EXPECT_EQ(redis.command({"GET", "k"}).text, big);
  std::vector<std::string> errors;
  auto replies = redis.pipeline({{"INCR", "n"}, {"INCR", "k"}, {"INCR", "n"}}, &errors);
  EXPECT_EQ(replies[2].integer, 2);
  EXPECT_FALSE(errors[1].empty());
  // By name too: the certificate is for localhost as well.
  url.host = "localhost";
  EXPECT_EQ(RedisClient::connect(url).command({"GET", "n"}).text, "2");
}

TEST(RedisClient, TlsWithAnotherCaIsRefused) {
  KILN_REDIS_SERVER_OR_SKIP(server, {.tls = true});
  KILN_REDIS_SERVER_OR_SKIP(other, {.tls = true});
  RedisUrl url = RedisUrl::parse(server->url());
  url.ca_file = other->ca_file();
  EXPECT_EQ(error_kind([&] { RedisClient::connect(url); }), Kind::Connection);
  std::string message = error_message<RedisError>([&] { RedisClient::connect(url); });
  EXPECT_NE(message.find("certificate"), std::string::npos) << message;
  // Without verification it connects.
  url.verify_peer = false;
  EXPECT_EQ(RedisClient::connect(url).command({"PING"}).text, "PONG");
  // A plain client at a TLS port gets no RESP: never a hang.
  RedisUrl plain = RedisUrl::parse(str_cat("redis://127.0.0.1:", server->port()));
  auto start = Clock::now();
  Kind kind = error_kind([&] { RedisClient::connect(plain, 0.5); });
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_NE(kind, Kind::Auth);
}

}  // namespace
}  // namespace kiln
