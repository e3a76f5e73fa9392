// Opening a cache file: checks it, sets a damaged one aside, and migrates the schema. Kept apart
// from the queries because it is the one part that deals with files, other versions and damage.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <thread>

#include "tuning_cache/sqlite_record_store.h"
#include "tuning_cache/sqlite_statement.h"

namespace kiln {

namespace {

using sqlite::exec;
using sqlite::SqliteError;
using sqlite::Statement;

/// How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
/// Writers hold the lock for one commit (milliseconds); this only has to outlast a burst of them.
constexpr int kBusyTimeoutMs = 10'000;

using Migration = void (*)(sqlite3* db);

/// kMigrations[n] takes a cache from schema version n to n + 1, inside the write transaction that
/// then sets `PRAGMA user_version`. To change the schema, append one; never edit one that shipped.
const Migration kMigrations[] = {
    // 0 → 1: the tables as TVM's database has them. AUTOINCREMENT: an id a tuning service holds
    // (to quarantine the record later) never names another record after a prune.
    [](sqlite3* db) {
      exec(db, R"sql(
        CREATE TABLE workloads(key TEXT PRIMARY KEY, canonical TEXT NOT NULL,
                               description TEXT NOT NULL, op_class TEXT NOT NULL,
                               flops REAL NOT NULL);
        CREATE TABLE records(id INTEGER PRIMARY KEY AUTOINCREMENT,
                             workload TEXT NOT NULL REFERENCES workloads(key),
                             target TEXT NOT NULL, space_version INTEGER NOT NULL,
                             kiln_version TEXT NOT NULL, kind TEXT NOT NULL, config TEXT NOT NULL,
                             trace TEXT NOT NULL, seconds REAL NOT NULL, spread REAL NOT NULL,
                             status TEXT NOT NULL, error TEXT NOT NULL, features BLOB NOT NULL,
                             source TEXT NOT NULL, time INTEGER NOT NULL);
        CREATE INDEX records_by_key ON records(workload, target, kind);
      )sql");
    },
};
constexpr int64_t kSchemaVersion = std::size(kMigrations);

struct CloseConnection {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseConnection>;

int64_t user_version(sqlite3* db) {
  Statement q(db, "PRAGMA user_version");
  q.step();
  return q.integer(0);
}

/// What opening a file found. `why` says what is wrong when it is not sound.
struct Probe {
  enum { Sound, Damaged, Newer } found = Sound;
  Connection db;
  std::string why;
};

/// Opens `path` and checks it by reading only, so that a file found damaged or newer is left as
/// it was. Throws Error for failures that are not the file's content (no permission, no space).
Probe probe(const std::string& path) {
  Probe p;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  p.db.reset(db);
  if (rc != SQLITE_OK)
    throw Error(str_cat("tuning cache ", path,
                        ": cannot open: ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  try {
    if (int64_t version = user_version(db); version > kSchemaVersion) {
      p.found = Probe::Newer;
      p.why = str_cat("schema version ", version, " is newer than this Kiln's ", kSchemaVersion);
      return p;
    }
    Statement check(db, "PRAGMA quick_check");
    while (check.step())
      if (check.text(0) != "ok" && p.why.empty()) p.why = "quick_check: " + check.text(0);
    if (!p.why.empty()) p.found = Probe::Damaged;
  } catch (const SqliteError& e) {
    if (e.code != SQLITE_CORRUPT && e.code != SQLITE_NOTADB) throw;
    p.found = Probe::Damaged;
    p.why = sqlite3_errstr(e.code);  // "file is not a database", "database disk image is malformed"
  }
  return p;
}

/// Switches the file to WAL. NOTE: while another process opens the same new file, SQLite answers
/// SQLITE_BUSY at once rather than after the busy timeout, so this waits on its own.
void use_wal(sqlite3* db) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    try {
      Statement(db, "PRAGMA journal_mode = WAL").step();
      return;
    } catch (const SqliteError& e) {
      if (e.code != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// Brings a sound file to this build's schema and settings. WAL lets readers and one writer of
/// several processes work at once; synchronous=NORMAL keeps every commit through a crash of the
/// process (only a power cut may lose the last ones, which a cache can afford).
void migrate(sqlite3* db) {
  use_wal(db);
  exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
  if (user_version(db) == kSchemaVersion) return;
  sqlite::Transaction t(db, /*write=*/true);
  int64_t version = user_version(db);  // again: another process may have migrated meanwhile
  if (version > kSchemaVersion)
    throw Error(str_cat("tuning cache ", sqlite3_db_filename(db, "main"),
                        ": another Kiln migrated it to schema version ", version));
  for (; version < kSchemaVersion; ++version) kMigrations[version](db);
  exec(db, str_cat("PRAGMA user_version = ", kSchemaVersion));
  t.commit();
}

/// The identity of the file at `path` (device, inode); zeros when there is none.
std::pair<dev_t, ino_t> file_id(const std::string& path) {
  struct stat s;
  if (::stat(path.c_str(), &s) != 0) return {0, 0};
  return {s.st_dev, s.st_ino};
}

/// Holds an exclusive flock on a directory: processes that found the same damaged file take
/// turns to set it aside, so none moves the fresh cache another one has made in its place.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::string& dir)
      : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY)) {
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
      throw Error(str_cat("tuning cache: cannot lock directory ", dir, ": ", std::strerror(errno)));
  }
  ~DirectoryLock() { ::close(fd_); }  // closing releases the lock

 private:
  int fd_;
};

/// Renames the file at `path`, with its WAL and shared-memory files (the WAL may hold committed
/// data), to `<path><tag><unix time>`, or that with "-2", "-3"... as an earlier one is never
/// overwritten. Returns the new name, or "" when `path` is no longer the file `id` found damaged:
/// another process set it aside first and may already have a fresh cache there.
std::string set_aside(const std::string& path, const std::string& tag, std::pair<dev_t, ino_t> id) {
  namespace fs = std::filesystem;
  std::string dir = fs::path(path).parent_path().string();
  DirectoryLock lock(dir.empty() ? "." : dir);
  if (file_id(path) != id) return "";
  std::string aside = str_cat(path, tag, std::time(nullptr));
  for (int n = 2; fs::exists(aside) || fs::exists(aside + "-wal"); ++n)
    aside = str_cat(path, tag, std::time(nullptr), "-", n);
  // The WAL first: one left behind would be replayed into the fresh cache.
  for (const char* suffix : {"-wal", "-shm", ""}) {
    std::error_code ec;
    if (fs::exists(path + suffix)) fs::rename(path + suffix, aside + suffix, ec);
    if (ec)
      throw Error(str_cat("tuning cache ", path, ": cannot move ", path + suffix,
                          " aside: ", ec.message()));
  }
  return aside;
}

}  // namespace

std::unique_ptr<SqliteRecordStore> SqliteRecordStore::open(const std::string& path, Warning warn) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    std::filesystem::create_directories(parent, ec);
    if (ec)
      throw Error(
          str_cat("tuning cache ", path, ": cannot create ", parent.string(), ": ", ec.message()));
  }
  // Three tries at most: a damaged file, set aside by this process or another, is replaced by a
  // fresh one, which is sound; a fresh one found damaged is not the file's fault but an error.
  for (int attempt = 1;; ++attempt) {
    std::pair<dev_t, ino_t> id = file_id(path);
    Probe p = probe(path);
    if (p.found == Probe::Sound) {
      migrate(p.db.get());
      return std::unique_ptr<SqliteRecordStore>(new SqliteRecordStore(path, p.db.release()));
    }
    if (attempt == 3) throw Error(str_cat("tuning cache ", path, ": ", p.why));
    // Closed before the rename, without the checkpoint that closing does by default: that would
    // write the WAL's pages into the file that must be moved untouched.
    sqlite3_db_config(p.db.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    p.db.reset();
    std::string aside =
        set_aside(path, p.found == Probe::Newer ? ".newer-schema-" : ".corrupt-", id);
    if (!aside.empty() && warn)
      warn(str_cat("tuning cache ", path, ": ", p.why, "; moved it to ", aside,
                   " and started an empty cache"));
  }
}

SqliteRecordStore::~SqliteRecordStore() {
  sqlite3_close_v2(db_);
}

}  // namespace kiln
