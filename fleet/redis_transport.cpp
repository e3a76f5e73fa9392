// The byte stream under RedisClient: a non-blocking socket, TLS by OpenSSL for rediss, every wait
// a poll() bounded by the call's deadline.
//
// NOTE: OpenSSL never touches the socket. It reads from and writes to two memory BIOs, and Link
// moves the bytes itself with recv() and send(MSG_NOSIGNAL). So a server that has gone away can
// never raise SIGPIPE in the host process (PyTorch, which we must not kill), for TLS as for plain
// TCP, with no signal mask to juggle per thread; and the TLS handshake, reads and writes all
// wait in the same poll() with the same deadline.
#include "fleet/redis_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace kiln::redis {
namespace {

using Kind = RedisError::Kind;
using Clock = Call::Clock;

/// What OpenSSL's error queue says, emptied.
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    out += out.empty() ? "" : "; ";
    out += text;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

/// Waits until `fd` is ready for `events` (or has an error, which the next read or write
/// reports); throws Timeout at the call's deadline.
void wait_for(int fd, short events, const Call& call) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(call.deadline - Clock::now()).count();
    if (left <= 0) fail(Kind::Timeout, call, str_cat("no answer within ", call.seconds, " s"));
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (n > 0) return;
    if (n < 0 && errno != EINTR) fail(Kind::Connection, call, str_cat("poll: ", strerror(errno)));
  }
}

Fd connect_tcp(const RedisUrl& url, const Call& call) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &found);
  if (rc != 0) fail(Kind::Connection, call, str_cat("cannot resolve the host: ", gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) {
      why = strerror(errno);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        why = strerror(errno);
        continue;
      }
      wait_for(fd.get(), POLLOUT, call);
      int error = 0;
      socklen_t size = sizeof error;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) {
        why = strerror(error);
        continue;
      }
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
  fail(Kind::Connection, call, str_cat("cannot connect: ", why));
}

bool is_ip_address(const std::string& host) {
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

}  // namespace

Call::Call(const RedisUrl& url, std::string what, double timeout_seconds)
    : endpoint(url.endpoint()), name(std::move(what)), seconds(timeout_seconds) {
  auto span = std::chrono::duration<double>(std::max(timeout_seconds, 0.0));
  deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(span);
}

void fail(RedisError::Kind kind, const Call& call, const std::string& detail) {
  throw RedisError(kind, str_cat("Redis at ", call.endpoint, ": ", call.name, ": ", detail));
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

struct Link::Tls {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, SSL_CTX_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{nullptr, SSL_free};
  BIO* net_in = nullptr;   // owned by ssl: bytes from the server, for OpenSSL to read
  BIO* net_out = nullptr;  // owned by ssl: bytes OpenSSL wrote, for the server
  bool verify_peer = false;
};

Link::Link(Fd fd) : fd_(std::move(fd)) {}
Link::~Link() = default;

std::unique_ptr<Link> Link::connect(const RedisUrl& url, const Call& call) {
  return std::unique_ptr<Link>(new Link(connect_tcp(url, call)));
}

void Link::send_all(const char* data, size_t size, const Call& call) {
  while (size > 0) {
    ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd_.get(), POLLOUT, call);
    } else if (errno != EINTR) {
      fail(Kind::Connection, call, str_cat("write failed: ", strerror(errno)));
    }
  }
}

size_t Link::recv_some(char* buf, size_t size, const Call& call) {
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, size, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) fail(Kind::Connection, call, "the server closed the connection");
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd_.get(), POLLIN, call);
    } else if (errno != EINTR) {
      fail(Kind::Connection, call, str_cat("read failed: ", strerror(errno)));
    }
  }
}

void Link::flush_tls(const Call& call) {
  char buf[16 << 10];
  for (int n; (n = BIO_read(tls_->net_out, buf, sizeof buf)) > 0;) send_all(buf, n, call);
}

void Link::feed_tls(const Call& call) {
  char buf[16 << 10];
  size_t n = recv_some(buf, sizeof buf, call);
  BIO_write(tls_->net_in, buf, static_cast<int>(n));  // a memory BIO takes all of it
}

void Link::tls_failed(const std::string& doing, int ssl_error, const Call& call) {
  std::string detail = openssl_errors();
  long verify =
      tls_ && tls_->ssl && tls_->verify_peer ? SSL_get_verify_result(tls_->ssl.get()) : X509_V_OK;
  if (verify != X509_V_OK) {
    detail =
        str_cat("the server's certificate is not trusted: ", X509_verify_cert_error_string(verify));
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    detail = "the server closed the connection";
  }
  fail(Kind::Connection, call, doing.empty() ? detail : str_cat(doing, " failed: ", detail));
}

void Link::start_tls(const RedisUrl& url, const Call& call) {
  ERR_clear_error();
  // NOTE: a failure below throws, and RedisClient::connect drops the half-set-up link with it.
  tls_ = std::make_unique<Tls>();
  Tls& tls = *tls_;
  tls.verify_peer = url.verify_peer;
  tls.ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (!tls.ctx) tls_failed("TLS setup", 0, call);
  SSL_CTX_set_min_proto_version(tls.ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(tls.ctx.get(), url.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (url.verify_peer) {
    bool own = !url.ca_file.empty();
    int ok = own ? SSL_CTX_load_verify_locations(tls.ctx.get(), url.ca_file.c_str(), nullptr)
                 : SSL_CTX_set_default_verify_paths(tls.ctx.get());
    if (ok != 1)
      fail(Kind::Connection, call,
           str_cat("cannot load the CA certificates from ",
                   own ? url.ca_file : std::string("the system's default paths"), ": ",
                   openssl_errors()));
  }
  tls.ssl.reset(SSL_new(tls.ctx.get()));
  tls.net_in = BIO_new(BIO_s_mem());
  tls.net_out = BIO_new(BIO_s_mem());
  if (!tls.ssl || !tls.net_in || !tls.net_out) {
    BIO_free(tls.net_in);
    BIO_free(tls.net_out);
    tls_failed("TLS setup", 0, call);
  }
  BIO_set_mem_eof_return(tls.net_in, -1);  // empty means "wait for more", not end of stream
  SSL_set_bio(tls.ssl.get(), tls.net_in, tls.net_out);
  bool ip = is_ip_address(url.host);
  // SNI carries names only (RFC 6066); the certificate check takes either.
  if (!ip) SSL_set_tlsext_host_name(tls.ssl.get(), url.host.c_str());
  if (url.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(tls.ssl.get());
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    if (ok != 1) tls_failed("TLS setup (the host name to verify)", 0, call);
  }
  SSL_set_connect_state(tls.ssl.get());
  for (;;) {
    ERR_clear_error();
    int rc = SSL_do_handshake(tls.ssl.get());
    int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(tls.ssl.get(), rc);
    flush_tls(call);  // also the alert that says why the handshake failed
    if (rc == 1) return;
    if (error != SSL_ERROR_WANT_READ) tls_failed("", error, call);
    feed_tls(call);
  }
}

void Link::write_all(std::string_view data, const Call& call) {
  if (!tls_) return send_all(data.data(), data.size(), call);
  // In chunks, so that a large value is not held twice (plain and encrypted) at once.
  while (!data.empty()) {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_write_ex(tls_->ssl.get(), data.data(), std::min(data.size(), kChunk), &n) == 1) {
      data.remove_prefix(n);
      flush_tls(call);
      continue;
    }
    int error = SSL_get_error(tls_->ssl.get(), 0);
    flush_tls(call);
    if (error != SSL_ERROR_WANT_READ) tls_failed("TLS write", error, call);
    feed_tls(call);
  }
}

size_t Link::read_some(char* buf, size_t size, const Call& call) {
  if (!tls_) return recv_some(buf, size, call);
  for (;;) {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_read_ex(tls_->ssl.get(), buf, size, &n) == 1) return n;
    int error = SSL_get_error(tls_->ssl.get(), 0);
    flush_tls(call);  // e.g. the answer to a TLS 1.3 key update
    if (error != SSL_ERROR_WANT_READ) tls_failed("TLS read", error, call);
    feed_tls(call);
  }
}

}  // namespace kiln::redis
