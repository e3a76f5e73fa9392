// RedisUrl: reading redis:// and rediss:// URLs, and writing them back without the password.
#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <string_view>

#include "fleet/redis_client.h"

namespace kiln {
namespace {

/// The URL as an error may show it: everything between the scheme and the last '@' (user and
/// password, however malformed) becomes "***".
std::string masked(const std::string& text) {
  size_t at = text.rfind('@');
  if (at == std::string::npos) return text;
  size_t scheme_end = text.find("://");
  size_t start = scheme_end == std::string::npos || scheme_end > at ? 0 : scheme_end + 3;
  return str_cat(text.substr(0, start), "***", text.substr(at));
}

[[noreturn]] void malformed(const std::string& text, const std::string& part,
                            const std::string& why) {
  throw RedisError(RedisError::Kind::Url,
                   str_cat("malformed Redis URL '", masked(text), "': ", part, ": ", why));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// `%XY` sequences decoded; a '%' not followed by two hex digits is malformed.
std::string percent_decode(std::string_view s, const std::string& text, const std::string& part) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
    int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
    if (lo < 0) malformed(text, part, "a '%' must be followed by two hex digits");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/// Every byte but the unreserved ones (and those in `keep`) as `%XY`.
std::string percent_encode(std::string_view s, std::string_view keep = "") {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' ||
        keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

/// `s` as a number in [lo, hi], all digits (no sign, no spaces); false otherwise.
bool parse_number(std::string_view s, int lo, int hi, int* value) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  std::from_chars(s.data(), s.data() + s.size(), *value);
  return *value >= lo && *value <= hi;
}

/// Fills host and port from "host", "host:port", "[v6]" or "[v6]:port".
void parse_host_port(std::string_view s, const std::string& text, RedisUrl* url) {
  std::string_view port;
  bool has_port = false;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos)
      malformed(text, "the host", "an IPv6 address needs its closing ']'");
    url->host = std::string(s.substr(1, close - 1));
    in6_addr addr{};
    if (inet_pton(AF_INET6, url->host.c_str(), &addr) != 1)
      malformed(text, "the host", str_cat("'", url->host, "' is not an IPv6 address"));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest[0] != ':')
      malformed(text, "the host", "only ':port' may follow the ']' of an IPv6 address");
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else {
    size_t colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) != std::string_view::npos)
      malformed(text, "the host", "write an IPv6 address in brackets, as in redis://[::1]:6379");
    url->host = std::string(s.substr(0, colon));
    if (url->host.empty()) malformed(text, "the host", "it is empty");
    for (char c : url->host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
        malformed(text, "the host", str_cat("'", url->host, "' is not a host name or address"));
    }
    has_port = colon != std::string_view::npos;
    if (has_port) port = s.substr(colon + 1);
  }
  if (has_port && !parse_number(port, 1, 65535, &url->port))
    malformed(text, "the port", str_cat("'", port, "' is not a number in 1..65535"));
}

/// Reads `?ca=PATH&insecure=1`.
void parse_query(std::string_view query, const std::string& text, RedisUrl* url) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (key == "ca") {
      url->ca_file = percent_decode(value, text, "the query's ca");
      if (url->ca_file.empty()) malformed(text, "the query's ca", "the path is empty");
    } else if (key == "insecure") {
      if (value == "1" || value == "true") {
        url->verify_peer = false;
      } else if (value == "0" || value == "false") {
        url->verify_peer = true;
      } else {
        malformed(text, "the query's insecure",
                  str_cat("'", value, "' is not 1, 0, true or false"));
      }
    } else {
      malformed(text, "the query", str_cat("unknown parameter '", key, "' (known: ca, insecure)"));
    }
    if (!url->tls) malformed(text, "the query", "ca and insecure are for rediss:// (TLS) only");
  }
}

}  // namespace

RedisUrl RedisUrl::parse(const std::string& text) {
  RedisUrl url;
  std::string_view rest = text;
  size_t scheme_end = rest.find("://");
  std::string scheme(rest.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "redis" && scheme != "rediss")
    malformed(text, "the scheme", "it must start with redis:// or rediss:// (TLS)");
  url.tls = scheme == "rediss";
  rest = rest.substr(scheme_end + 3);

  // The query first, then the password by the last '@': a password may hold '/' or ':' unencoded.
  size_t question = rest.find('?');
  std::string_view query = question == std::string_view::npos ? "" : rest.substr(question + 1);
  rest = rest.substr(0, question);
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos)
      malformed(text, "the user",
                "a user needs a password: redis://user:password@host, or redis://:password@host "
                "for a password alone");
    url.user = percent_decode(userinfo.substr(0, colon), text, "the user");
    url.password = percent_decode(userinfo.substr(colon + 1), text, "the password");
    if (url.password.empty()) malformed(text, "the password", "it is empty");
    rest = rest.substr(at + 1);
  }

  size_t slash = rest.find('/');
  parse_host_port(rest.substr(0, slash), text, &url);
  std::string_view db = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (!db.empty() && !parse_number(db, 0, 999999999, &url.db))
    malformed(text, "the db", str_cat("'", db, "' is not a non-negative integer"));
  parse_query(query, text, &url);
  return url;
}

std::string RedisUrl::endpoint() const {
  if (host.find(':') != std::string::npos) return str_cat("[", host, "]:", port);
  return str_cat(host, ":", port);
}

std::string RedisUrl::text(bool hide_password) const {
  std::string out = tls ? "rediss://" : "redis://";
  if (!user.empty() || !password.empty()) {
    out += percent_encode(user);
    out += str_cat(":", hide_password && !password.empty() ? "***" : percent_encode(password), "@");
  }
  out += endpoint();
  if (db != 0) out += str_cat("/", db);
  std::string query;
  if (!ca_file.empty()) query += str_cat("&ca=", percent_encode(ca_file, "/"));
  if (!verify_peer) query += "&insecure=1";
  if (!query.empty()) out += str_cat("?", query.substr(1));
  return out;
}

std::string RedisUrl::redacted() const {
  return text(/*hide_password=*/true);
}

}  // namespace kiln
