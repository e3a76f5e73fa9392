// Private to tuning_cache/: SQLite's C API behind a prepared statement that finalizes itself and
// throws on every error, so no call's result code goes unchecked.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/support/error.h"

namespace kiln::sqlite {

/// An error SQLite reported, naming the file and SQLite's message. Keeps the primary result code
/// so that open() can tell a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB) from other failures.
class SqliteError : public Error {
 public:
  SqliteError(int code, const std::string& message) : Error(message), code(code) {}
  int code;
};

/// Throws SqliteError: "tuning cache <file>: <what>: <SQLite's message>".
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& what);

/// Runs `sql` (one or more statements without results).
void exec(sqlite3* db, const std::string& sql);

/// One prepared statement. Bind indices start at 1 and columns at 0, as in SQLite.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_text(int index, const std::string& value);
  Statement& bind_int(int index, int64_t value);
  Statement& bind_real(int index, double value);
  /// As float32 little-endian whatever the host, so that the file is portable.
  Statement& bind_floats(int index, const std::vector<float>& values);

  /// Advances to the next row: true while there is one. Throws on error.
  bool step();
  /// step() for a statement without results.
  void run() { step(); }
  /// Makes the statement ready to run again; bindings are kept until rebound.
  void reset() { sqlite3_reset(stmt_); }

  std::string text(int column) const;
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::vector<float> floats(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// A transaction that rolls back when destroyed uncommitted (an exception on the way).
/// `write` takes the write lock at once (BEGIN IMMEDIATE): a transaction that reads first and
/// writes later could otherwise fail with SQLITE_BUSY rather than wait for another writer.
class Transaction {
 public:
  Transaction(sqlite3* db, bool write) : db_(db) { exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    exec(db_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace kiln::sqlite
