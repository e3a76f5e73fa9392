// The tuning cache as `kiln cache` sees it: one folder's tuning.sqlite, read and maintained
// without compiling anything. Exported from libkiln_torch.so for kiln._C.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tune/record_store.h"
#include "plugin/torch/kiln_torch.h"

namespace kiln {

// NOTE: what crosses into kiln._C is plain strings and numbers: Kiln's own types (WorkloadKey,
// TargetFingerprint) have hidden symbols inside libkiln_torch.so.

/// One workload of the cache with its record counts, for `kiln cache ls`.
struct CachedWorkload {
  std::string key;  ///< WorkloadKey::hex().
  std::string op_class, description;
  double flops = 0;
  int64_t records = 0, ok = 0, quarantined = 0;
  int64_t here = 0;         ///< Records of this machine's target (any status).
  double best_seconds = 0;  ///< Fastest ok schedule record of this machine; 0 if none.
};

/// One record, its key and target spelled as text.
struct CachedRecord {
  int64_t id = 0;
  std::string workload, target, kiln_version, kind, config, trace, status, error, source;
  int space_version = 0;
  double seconds = 0, spread = 0;
  int64_t features = 0;  ///< Length of its feature vector.
  int64_t time = 0;
};

class SqliteRecordStore;

/// The cache of `dir` for the `kiln` commands: a damaged file is an error (Error), not set
/// aside as a compile would. Not exported: for the plugin's own files.
std::unique_ptr<SqliteRecordStore> open_store(const std::string& dir);
/// This machine's fingerprint as records are keyed (LLVM's CPU, torch's thread count).
TargetFingerprint this_fingerprint();

/// The path of the cache file in `dir`.
KILN_TORCH_API std::string cache_file(const std::string& dir);
/// This machine's target fingerprint, as records are keyed (LLVM's CPU, torch's thread count).
KILN_TORCH_API std::string this_target();
KILN_TORCH_API std::vector<CachedWorkload> cache_workloads(const std::string& dir);
/// The records of the workload whose key starts with `key_prefix` (hex). Throws Error when no
/// workload, or more than one, matches.
KILN_TORCH_API std::vector<CachedRecord> cache_records(const std::string& dir,
                                                       const std::string& key_prefix);
/// The stored workload whose key starts with `key_prefix`.
KILN_TORCH_API CachedWorkload cache_workload(const std::string& dir, const std::string& key_prefix);
/// Why this machine is served no tuned kernel for that workload; empty when it is.
KILN_TORCH_API std::vector<std::string> cache_explain(const std::string& dir,
                                                      const std::string& key_prefix);
/// Writes the whole cache to one portable file (JSON lines).
KILN_TORCH_API void cache_export(const std::string& dir, const std::string& path);
/// Adds the records of an exported file (idempotent); they serve only after they are verified on
/// this machine. Returns (added, skipped, conflicts).
KILN_TORCH_API std::vector<int64_t> cache_import(const std::string& dir, const std::string& path);
/// Adds every record of another cache file (tuning.sqlite), as an import does.
KILN_TORCH_API std::vector<int64_t> cache_merge(const std::string& dir,
                                                const std::string& other_file);
/// Keeps the `keep` fastest ok records per workload, target and kind; returns how many went.
KILN_TORCH_API int64_t cache_prune(const std::string& dir, int keep);
/// Problems found: SQLite's integrity check, and each record whose trace, target or config does
/// not parse (quarantined as it is found). Empty for a sound cache.
KILN_TORCH_API std::vector<std::string> cache_verify(const std::string& dir);

}  // namespace kiln
