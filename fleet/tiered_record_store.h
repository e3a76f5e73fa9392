// The tuning cache of a machine in a fleet: the local SQLite store first, the fleet's Redis
// second. A hit in the local store never touches the network. A miss asks Redis once per
// workload and process (bounded by the call's timeout) and imports the fleet's fastest
// schedules as "unverified": the kernel pipeline measures and checks each here before it serves
// (kernel_pipeline.h). A commit goes to the local store at once and to Redis from a thread of its
// own, so no model call ever waits on the network; while Redis is down the records queue in
// memory, one warning says so, and they reach Redis when it answers again. Records of an earlier
// process that ended before Redis came back are sent when a store opens the cache again (the
// thread's first work: whatever this machine measured and Redis lacks).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fleet/redis_record_store.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

struct TieredOptions {
  RedisUrl url;
  std::string machine = this_machine();
  double timeout_seconds = 0.5;   ///< Bound of every Redis call.
  double retry_seconds = 2;       ///< While Redis is down, how often the pushing thread retries.
  int imported_per_workload = 3;  ///< The fleet's fastest schedules a miss imports.
  /// The store's messages: one warning when Redis stops answering, one line when it is back.
  std::function<void(bool warning, const std::string& message)> log;
};

/// Whether records of `kind` travel to the fleet: schedules and the baselines that teach the
/// cost model where defaults stand. Serving decisions are about one machine's running model.
bool shared_with_fleet(const std::string& kind);

class TieredRecordStore final : public RecordStore {
 public:
  /// Connects to Redis once. Throws RedisError for a malformed URL or refused credentials (a
  /// configuration to fix); an unreachable or slow Redis only means the local level for now.
  TieredRecordStore(std::unique_ptr<SqliteRecordStore> local, TieredOptions options);
  /// stop().
  ~TieredRecordStore() override;
  TieredRecordStore(const TieredRecordStore&) = delete;
  TieredRecordStore& operator=(const TieredRecordStore&) = delete;

  std::vector<int64_t> commit(const Workload& workload,
                              const std::vector<TuningRecord>& records) override;
  std::optional<TuningRecord> best(const Workload& workload, const TargetFingerprint& target,
                                   const std::string& kind = record_kind::kSchedule) override;
  LookupMiss explain(const Workload& workload, const TargetFingerprint& target) override;
  void for_each(const RecordFilter& filter,
                const std::function<void(const TuningRecord&)>& visit) override;
  std::optional<Workload> workload(const WorkloadKey& key) override;
  void set_status(int64_t id, const std::string& status, const std::string& error) override;

  /// Waits until every queued record reached Redis or `timeout_seconds` passed; returns how
  /// many still wait.
  size_t flush(double timeout_seconds);
  /// Records committed here that have not reached Redis yet.
  size_t pending();
  /// Whether Redis answered the last call (false from the first failure until it answers again).
  bool redis_up();
  /// Stops the pushing thread after one attempt at each record still queued (each bounded by
  /// the timeout; the first that fails ends it: those records stay in the local store only).
  /// Later commits stay local. Idempotent.
  void stop();

  SqliteRecordStore& local() { return *local_; }
  const TieredOptions& options() const { return options_; }

 private:
  enum class PushOutcome : uint8_t { Done, Retry };
  using QueuedRecords = std::pair<Workload, std::vector<TuningRecord>>;

  /// The pushing thread: pushes what is queued, and while Redis is down reconnects both
  /// connections every retry_seconds (also with nothing queued, so lookups resume).
  void push_loop();
  void reconnect();
  /// Pushes what the local store measured and Redis lacks (records of earlier processes that
  /// ended while Redis was down); false when Redis did not answer (tried again later).
  bool catch_up();
  PushOutcome push(const QueuedRecords& item);
  void mark_down(const std::string& why);
  void mark_up();
  void log(bool warning, const std::string& message);

  std::unique_ptr<SqliteRecordStore> local_;
  TieredOptions options_;

  /// Lookups have a connection of their own, so a lookup never waits behind a push; only the
  /// pushing thread connects (outside this lock), so a lookup never waits on a connect either.
  std::mutex lookup_mutex_;  ///< Guards lookups_, asked_.
  std::optional<RedisRecordStore> lookups_;
  std::set<std::pair<std::string, std::string>> asked_;  ///< (workload, target) misses asked.
  std::optional<RedisRecordStore> pushes_;               ///< The pushing thread's own.

  std::mutex state_mutex_;  ///< Guards down_, warned_; never held across a call.
  bool down_ = false;
  bool warned_ = false;

  std::mutex queue_mutex_;  ///< Guards queue_, queued_, in_flight_, stopping_.
  std::condition_variable queue_changed_;
  std::deque<QueuedRecords> queue_;
  size_t queued_ = 0;     ///< Records in queue_.
  size_t in_flight_ = 0;  ///< Records taken off the queue, being pushed.
  bool stopping_ = false;
  bool dropped_ = false;  ///< Whether a full queue dropped records (said once).
  std::thread pusher_;
};

}  // namespace kiln
