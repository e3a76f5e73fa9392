// A damaged or newer cache file never stops Kiln and is never lost: open() moves it aside
// untouched, warns once, and starts an empty cache. A place it cannot write is an error.
#include <gtest/gtest.h>

#include <random>

#include "tests/support/error_message.h"
#include "tests/tuning_cache/cache_fixture.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {
namespace {

using namespace cache_test;
using testing::error_message;

/// A sound cache with a few records at `path`, closed (its WAL folded into the file).
void write_cache(const std::string& path) {
  auto store = SqliteRecordStore::open(path);
  for (int n = 1; n <= 3; ++n) {
    Workload w = workload(n);
    store->commit(w, {record(w, target(), 1e-3), record(w, target(2), 2e-3)});
  }
}

/// Opens `path`, which holds `damaged`, and expects it moved to `<path><tag><time>` with those
/// bytes, one warning naming both paths, and a working empty cache in its place.
void expect_set_aside(const std::string& path, const std::string& tag, const std::string& damaged) {
  std::vector<std::string> warnings;
  auto store = SqliteRecordStore::open(path, [&](const std::string& m) { warnings.push_back(m); });
  std::vector<std::string> asides;  // without SQLite's -wal and -shm files beside them
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    std::string name = entry.path().string();
    if (name.starts_with(path + tag) && !name.ends_with("-wal") && !name.ends_with("-shm"))
      asides.push_back(name);
  }
  ASSERT_EQ(asides.size(), 1u) << "no " << path << tag << "* beside the cache";
  EXPECT_EQ(read_bytes(asides[0]), damaged) << "the damaged file was changed";
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(path), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(asides[0]), std::string::npos) << warnings[0];

  EXPECT_EQ(store->count({}), 0);
  Workload w = workload(7);
  store->commit(w, {record(w, target(), 1e-3)});
  EXPECT_TRUE(store->best(w, target()));
  store.reset();
  SqliteRecordStore::open(path, [&](const std::string& m) { warnings.push_back(m); });
  EXPECT_EQ(warnings.size(), 1u) << "the fresh cache was reported damaged: " << warnings.back();
}

TEST(SqliteRecordStoreDamage, TruncatedFileIsSetAside) {
  ScratchDir dir;
  const std::string path = dir.path("tuning.db");
  write_cache(path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_set_aside(path, ".corrupt-", read_bytes(path));
}

TEST(SqliteRecordStoreDamage, ScribbledPagesAreSetAside) {
  ScratchDir dir;
  const std::string path = dir.path("tuning.db");
  write_cache(path);
  // The header page is intact, so only quick_check sees that the tables' pages are not.
  std::string bytes = read_bytes(path);
  std::mt19937 rng(3);
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  expect_set_aside(path, ".corrupt-", bytes);
}

TEST(SqliteRecordStoreDamage, GarbageFileIsSetAside) {
  ScratchDir dir;
  const std::string path = dir.path("tuning.db");
  std::string garbage(64 * 1024, '\0');
  std::mt19937 rng(5);
  for (char& c : garbage) c = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary) << garbage;
  expect_set_aside(path, ".corrupt-", garbage);
}

TEST(SqliteRecordStoreDamage, NewerSchemaIsSetAsideUntouched) {
  ScratchDir dir;
  const std::string path = dir.path("tuning.db");
  write_cache(path);
  // user_version is the 4-byte big-endian integer at offset 60 of a SQLite file's header.
  std::string bytes = read_bytes(path);
  bytes.replace(60, 4, std::string("\0\0\0\x63", 4));  // 99
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  expect_set_aside(path, ".newer-schema-", bytes);
}

TEST(SqliteRecordStoreDamage, UnwritablePlaceIsAnError) {
  ScratchDir dir;
  std::ofstream(dir.path("file")) << "not a directory";
  std::string under_file = dir.path("file/tuning.db");
  EXPECT_NE(error_message([&] { SqliteRecordStore::open(under_file); }).find(under_file),
            std::string::npos);
  std::filesystem::create_directory(dir.path("a_directory"));
  std::string message = error_message([&] { SqliteRecordStore::open(dir.path("a_directory")); });
  EXPECT_NE(message.find(dir.path("a_directory")), std::string::npos) << message;
  EXPECT_NE(message.find("unable to open"), std::string::npos) << message;  // SQLite's words
}

}  // namespace
}  // namespace kiln
