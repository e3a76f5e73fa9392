#include "tuning_cache/sqlite_statement.h"

#include <bit>
#include <cstring>

namespace kiln::sqlite {

void fail(sqlite3* db, int rc, const std::string& what) {
  // The statement on one line, cut short: a migration's would fill the screen.
  std::string statement;
  for (char c : what) {
    bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space || (!statement.empty() && statement.back() != ' ')) statement += space ? ' ' : c;
  }
  if (statement.size() > 80) statement = statement.substr(0, 77) + "...";
  const char* file = sqlite3_db_filename(db, "main");
  throw SqliteError(rc & 0xff, str_cat("tuning cache ", file ? file : "?", ": ", statement, ": ",
                                       sqlite3_errmsg(db)));
}

void exec(sqlite3* db, const std::string& sql) {
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, sql);
}

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, sql);
}

Statement& Statement::bind_text(int index, const std::string& value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(db_, rc, sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind_int(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind_real(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind_floats(int index, const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>(bits >> (8 * b));
  }
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, sqlite3_sql(stmt_));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, sqlite3_sql(stmt_));
}

std::string Statement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  return data
             ? std::string(reinterpret_cast<const char*>(data), sqlite3_column_bytes(stmt_, column))
             : std::string();
}

std::vector<float> Statement::floats(int column) const {
  const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, column));
  std::vector<float> values(data ? sqlite3_column_bytes(stmt_, column) / 4 : 0);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= static_cast<uint32_t>(data[i * 4 + b]) << (8 * b);
    values[i] = std::bit_cast<float>(bits);
  }
  return values;
}

}  // namespace kiln::sqlite
