// RedisServer: redis-server as a child process, its certificates made by the openssl command.
#include "tests/fleet/redis_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/support/error.h"
#include "fleet/redis_client.h"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kReadyBound = std::chrono::seconds(5);

/// The program `name`: `env` names it, else the first in PATH or the usual folders; "" if none.
std::string find_program(const std::string& name, const char* env) {
  if (const char* given = env ? getenv(env) : nullptr; given && *given)
    return access(given, X_OK) == 0 ? given : "";
  std::string dirs = getenv("PATH") ? getenv("PATH") : "";
  dirs += ":/usr/bin:/usr/sbin:/usr/local/bin";
  std::stringstream list(dirs);
  for (std::string dir; std::getline(list, dir, ':');) {
    std::string path = str_cat(dir, "/", name);
    if (!dir.empty() && access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

/// Starts `args` with stdout and stderr appended to `log`; the child dies with this process.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {  // only async-signal-safe calls from here
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) dup2(out, 1), dup2(out, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (out >= 0) close(out);
  if (in >= 0) close(in);
  return pid;
}

/// The text of `path` from byte `from` on ("" if it cannot be read).
std::string read_from(const std::string& path, std::streamoff from = 0) {
  std::ifstream file(path, std::ios::binary);
  file.seekg(from);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

/// The last lines of `text`, for a skip reason.
std::string tail(const std::string& text) {
  return text.size() <= 1500 ? text : "..." + text.substr(text.size() - 1500);
}

/// Runs `args` to the end; "" or what went wrong.
std::string run(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = spawn(args, log);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return str_cat(args[0], " ", args[1], " failed: ", tail(read_from(log)));
  return "";
}

/// A CA (ca.crt) and a certificate it signed for 127.0.0.1 and localhost (server.crt,
/// server.key) in `dir`; "" or why not.
std::string make_certificates(const std::string& dir) {
  std::string openssl = find_program("openssl", nullptr);
  if (openssl.empty()) return "no openssl command to make the test certificates";
  std::string log = dir + "/openssl.log";
  std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                        "basicConstraints=CA:FALSE\n"
                                        "extendedKeyUsage=serverAuth\n";
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                           "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with_key = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, ec_key.begin(), ec_key.end());
    return args;
  };
  const std::vector<std::vector<std::string>> steps = {
      with_key({openssl, "req", "-x509", "-days", "2", "-subj", "/CN=Kiln test CA", "-keyout",
                dir + "/ca.key", "-out", dir + "/ca.crt"}),
      with_key({openssl, "req", "-subj", "/CN=localhost", "-keyout", dir + "/server.key", "-out",
                dir + "/server.csr"}),
      {openssl, "x509", "-req", "-days", "2", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt",
       "-CAkey", dir + "/ca.key", "-CAcreateserial", "-extfile", dir + "/server.ext", "-out",
       dir + "/server.crt"}};
  for (const std::vector<std::string>& args : steps) {
    if (std::string why = run(args, log); !why.empty()) return why;
  }
  return "";
}

/// A loopback TCP port that nothing listens on now.
int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace

std::unique_ptr<RedisServer> RedisServer::start_or_skip_reason(const RedisServerOptions& options,
                                                               std::string* skip_reason) {
  std::string binary = find_program("redis-server", "KILN_REDIS_SERVER");
  if (binary.empty()) {
    *skip_reason = getenv("KILN_REDIS_SERVER")
                       ? "KILN_REDIS_SERVER does not name an executable redis-server"
                       : "no redis-server here (install it, or name one in KILN_REDIS_SERVER)";
    return nullptr;
  }
  std::string pattern = ::testing::TempDir() + "kiln_redis_XXXXXX";
  if (!mkdtemp(pattern.data())) {
    *skip_reason = str_cat("cannot make a directory for redis-server: mkdtemp ", pattern);
    return nullptr;
  }
  std::string why;
  if (options.tls && !(why = make_certificates(pattern)).empty()) {
    fs::remove_all(pattern);
    *skip_reason = why;
    return nullptr;
  }
  // Another process may take the free port before redis-server binds it: then try another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<RedisServer> server(
        new RedisServer(binary, options, pattern, free_loopback_port()));
    why = server->launch();
    if (why.empty()) return server;
    server->dir_.clear();  // keep the directory for the next attempt
    if (why.find("Address already in use") == std::string::npos) break;
  }
  fs::remove_all(pattern);
  *skip_reason = why;
  return nullptr;
}

RedisServer::~RedisServer() {
  kill();
  if (!dir_.empty()) fs::remove_all(dir_);
}

std::string RedisServer::launch() {
  std::string log = dir_ + "/redis.log";
  std::error_code error;
  auto log_start = static_cast<std::streamoff>(fs::file_size(log, error));
  if (error) log_start = 0;
  std::vector<std::string> args = {binary_};
  auto set = [&](const char* name, const std::string& value) {
    args.push_back(str_cat("--", name));
    args.push_back(value);
  };
  set("bind", "127.0.0.1");
  set("dir", dir_);
  set("logfile", log);
  set("daemonize", "no");
  set("save", "");  // no snapshots, ever
  set("appendonly", options_.persist ? "yes" : "no");
  if (options_.persist) set("appendfsync", "always");
  if (!options_.password.empty()) set("requirepass", options_.password);
  if (options_.tls) {
    set("port", "0");
    set("tls-port", std::to_string(port_));
    set("tls-cert-file", dir_ + "/server.crt");
    set("tls-key-file", dir_ + "/server.key");
    set("tls-ca-cert-file", dir_ + "/ca.crt");
    set("tls-auth-clients", "no");
  } else {
    set("port", std::to_string(port_));
  }
  pid_ = spawn(args, log);
  if (pid_ < 0) return str_cat("cannot start ", binary_, ": fork failed");

  // Ready once it says so: it listens before it has loaded its append-only file.
  for (auto deadline = Clock::now() + kReadyBound; Clock::now() < deadline;) {
    std::string said = read_from(log, log_start);
    if (said.find("Ready to accept connections") != std::string::npos) return "";
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (options_.tls && said.find("tls") != std::string::npos &&
          said.find("Bad directive") != std::string::npos)
        return str_cat(binary_, " was built without TLS: ", tail(said));
      return str_cat(binary_, " exited at start: ", tail(said));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  return str_cat(binary_, " was not ready within 5 s: ", tail(read_from(log, log_start)));
}

std::string RedisServer::url() const {
  RedisUrl url;
  url.tls = options_.tls;
  url.port = port_;
  url.password = options_.password;
  url.ca_file = ca_file();
  return url.text();
}

std::string RedisServer::ca_file() const {
  return options_.tls ? dir_ + "/ca.crt" : "";
}

void RedisServer::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  for (auto deadline = Clock::now() + kReadyBound; Clock::now() < deadline;) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill();
}

void RedisServer::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::start() {
  if (running()) return;
  if (std::string why = launch(); !why.empty()) throw std::runtime_error(why);
}

}  // namespace kiln::testing
