#include "fleet/tiered_record_store.h"

#include <chrono>
#include <utility>

#include "fleet/fleet_sync.h"

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::duration<double> seconds(double s) {
  return std::chrono::duration<double>(s);
}

/// Records queued for Redis at most; beyond, the oldest stay in the local store only.
constexpr size_t kMaxQueuedRecords = 100000;

/// Whether an error reply means "not now" (loading its data after a restart, a replica, out of
/// memory, busy with a script), so the call is tried again later rather than given up.
bool transient(const RedisError& e) {
  const std::string text = e.what();
  for (const char* code :
       {"LOADING", "READONLY", "OOM", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"})
    if (text.find(code) != std::string::npos) return true;
  return false;
}

}  // namespace

bool shared_with_fleet(const std::string& kind) {
  return kind == record_kind::kSchedule || kind == record_kind::kBaseline;
}

TieredRecordStore::TieredRecordStore(std::unique_ptr<SqliteRecordStore> local,
                                     TieredOptions options)
    : local_(std::move(local)), options_(std::move(options)) {
  try {
    lookups_.emplace(options_.url, options_.machine, options_.timeout_seconds);
  } catch (const RedisError& e) {
    if (e.kind() == RedisError::Kind::Url || e.kind() == RedisError::Kind::Auth) throw;
    mark_down(e.what());
  }
  pusher_ = std::thread([this] { push_loop(); });
}

TieredRecordStore::~TieredRecordStore() {
  stop();
}

void TieredRecordStore::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (pusher_.joinable()) pusher_.join();
}

void TieredRecordStore::log(bool warning, const std::string& message) {
  if (options_.log)
    options_.log(warning, str_cat("the fleet's Redis ", options_.url.redacted(), message));
}

void TieredRecordStore::mark_down(const std::string& why) {
  std::lock_guard lock(state_mutex_);
  if (down_) return;
  down_ = true;
  log(!warned_, str_cat(" does not answer (", why,
                        "): the local tuning cache serves alone, and new records wait here "
                        "until Redis answers"));
  warned_ = true;
}

void TieredRecordStore::mark_up() {
  std::lock_guard lock(state_mutex_);
  if (!down_) return;
  down_ = false;
  log(false, " answers again; queued records go to it now");
}

bool TieredRecordStore::redis_up() {
  std::lock_guard lock(state_mutex_);
  return !down_;
}

std::vector<int64_t> TieredRecordStore::commit(const Workload& workload,
                                               const std::vector<TuningRecord>& records) {
  std::vector<int64_t> ids = local_->commit(workload, records);
  std::vector<TuningRecord> shared;
  for (const TuningRecord& r : records)
    if (shared_with_fleet(r.kind) && r.source == "local") shared.push_back(r);
  if (shared.empty()) return ids;
  bool dropped = false;
  {
    std::lock_guard lock(queue_mutex_);
    queued_ += shared.size();
    queue_.emplace_back(workload, std::move(shared));
    while (queued_ > kMaxQueuedRecords && queue_.size() > 1) {  // the oldest go first
      queued_ -= queue_.front().second.size();
      queue_.pop_front();
      dropped = !std::exchange(dropped_, true);
    }
  }
  queue_changed_.notify_all();
  if (dropped)
    log(true, str_cat(": more than ", kMaxQueuedRecords,
                      " records wait for it; the oldest stay in the local cache only "
                      "(`kiln cache push` sends them)"));
  return ids;
}

std::optional<TuningRecord> TieredRecordStore::best(const Workload& workload,
                                                    const TargetFingerprint& target,
                                                    const std::string& kind) {
  std::optional<TuningRecord> found = local_->best(workload, target, kind);
  if (found || kind != record_kind::kSchedule) return found;
  FleetRecords fleet;
  {
    std::lock_guard lock(lookup_mutex_);
    const std::pair<std::string, std::string> asked{workload.key.hex(), target_digest(target)};
    if (!lookups_ || asked_.contains(asked)) return std::nullopt;  // down, or asked before
    try {
      fleet = lookups_->fetch(workload.key, target);
      asked_.insert(asked);
    } catch (const RedisError& e) {
      if (e.kind() == RedisError::Kind::Reply && !transient(e)) {
        asked_.insert(asked);
        log(true, str_cat(": ", e.what()));
      } else {
        lookups_.reset();  // the pushing thread reconnects
        mark_down(e.what());
      }
      return std::nullopt;
    }
  }
  for (const std::string& why : fleet.garbage) log(true, str_cat(": skipped: ", why));
  if (fleet.workload && fleet.workload->canonical != workload.canonical)
    log(true, str_cat(" holds another program under workload key ", workload.key.hex(),
                      " (a hash collision): its records are not used"));
  if (!fleet.workload || fleet.workload->canonical != workload.canonical) return std::nullopt;
  std::vector<TuningRecord> imported;
  for (const FleetSchedule& s : fleet.schedules) {
    if (static_cast<int>(imported.size()) == options_.imported_per_workload) break;
    imported.push_back(s.record);
  }
  if (imported.empty()) return std::nullopt;
  if (fleet.baseline) imported.push_back(*fleet.baseline);  // what their claims are judged by
  local_->import_records(workload, imported);
  return local_->best(workload, target, kind);
}

LookupMiss TieredRecordStore::explain(const Workload& workload, const TargetFingerprint& target) {
  return local_->explain(workload, target);
}

void TieredRecordStore::for_each(const RecordFilter& filter,
                                 const std::function<void(const TuningRecord&)>& visit) {
  local_->for_each(filter, visit);
}

std::optional<Workload> TieredRecordStore::workload(const WorkloadKey& key) {
  return local_->workload(key);
}

void TieredRecordStore::set_status(int64_t id, const std::string& status,
                                   const std::string& error) {
  local_->set_status(id, status, error);
}

void TieredRecordStore::reconnect() {
  try {
    if (!pushes_) pushes_.emplace(options_.url, options_.machine, options_.timeout_seconds);
    bool lookups_missing;
    {
      std::lock_guard lock(lookup_mutex_);
      lookups_missing = !lookups_;
    }
    if (lookups_missing) {
      RedisRecordStore fresh(options_.url, options_.machine, options_.timeout_seconds);
      std::lock_guard lock(lookup_mutex_);
      lookups_.emplace(std::move(fresh));
      asked_.clear();  // misses asked while it was down may find records now
    }
    mark_up();
  } catch (const RedisError& e) {  // also refused credentials: the password changed meanwhile
    pushes_.reset();
    mark_down(e.what());
  }
}

TieredRecordStore::PushOutcome TieredRecordStore::push(const QueuedRecords& item) {
  try {
    if (!pushes_) reconnect();
    if (!pushes_) return PushOutcome::Retry;
    PushResult pushed = pushes_->push(item.first, item.second);
    if (pushed.conflicts)
      log(true, str_cat(" holds another program under workload key ", item.first.key.hex(), ": ",
                        pushed.conflicts, " records of this one stay local"));
    return PushOutcome::Done;
  } catch (const RedisError& e) {
    if (e.kind() == RedisError::Kind::Reply && !transient(e)) {
      log(true, str_cat(" refused ", item.second.size(), " records (they stay local): ", e.what()));
      return PushOutcome::Done;  // retrying cannot change that
    }
    pushes_.reset();
    mark_down(e.what());
    return PushOutcome::Retry;
  } catch (const std::exception& e) {  // a record that cannot be written as JSON
    log(true, str_cat(": ", item.second.size(), " records stay local: ", e.what()));
    return PushOutcome::Done;
  }
}

bool TieredRecordStore::catch_up() {
  try {
    if (!pushes_) reconnect();
    if (!pushes_) return false;
    SyncResult pushed = push_to_fleet(*local_, *pushes_);
    if (pushed.records)
      log(false, str_cat(": ", pushed.records, " records measured here before reached it"));
    return true;
  } catch (const RedisError& e) {
    if (e.kind() == RedisError::Kind::Reply && !transient(e)) {
      log(true, str_cat(" refused records measured here before: ", e.what()));
      return true;
    }
    pushes_.reset();
    mark_down(e.what());
    return false;
  } catch (const std::exception& e) {
    log(true, str_cat(": records measured here before stay local: ", e.what()));
    return true;
  }
}

void TieredRecordStore::push_loop() {
  std::unique_lock lock(queue_mutex_);
  bool up = true;
  bool caught_up = false;
  for (;;) {
    if (!caught_up && !stopping_) {
      lock.unlock();
      caught_up = catch_up();
      lock.lock();
    }
    // Wakes to stop, and every retry_seconds: while Redis is down, that is when both
    // connections are tried again, records queued or not. While it answers, also for new records.
    queue_changed_.wait_for(lock, seconds(options_.retry_seconds),
                            [&] { return stopping_ || (up && !queue_.empty()); });
    if (stopping_ && queue_.empty()) return;
    lock.unlock();
    if (!redis_up()) reconnect();
    lock.lock();
    up = true;
    while (!queue_.empty() && up) {
      QueuedRecords item = std::move(queue_.front());
      queue_.pop_front();
      queued_ -= item.second.size();
      in_flight_ = item.second.size();
      lock.unlock();
      up = push(item) == PushOutcome::Done;
      lock.lock();
      in_flight_ = 0;
      if (!up) {
        queued_ += item.second.size();
        queue_.push_front(std::move(item));
      }
      queue_changed_.notify_all();  // flush() waits on this
    }
    if (stopping_) return;  // what did not reach Redis stays in the local store
  }
}

size_t TieredRecordStore::flush(double timeout_seconds) {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait_until(
      lock, Clock::now() + std::chrono::duration_cast<Clock::duration>(seconds(timeout_seconds)),
      [&] { return queue_.empty() && in_flight_ == 0; });
  return queued_ + in_flight_;
}

size_t TieredRecordStore::pending() {
  std::lock_guard lock(queue_mutex_);
  return queued_ + in_flight_;
}

}  // namespace kiln
