#include "fleet/tiered_record_store.h"

#include <chrono>

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::duration<double> seconds(double s) {
  return std::chrono::duration<double>(s);
}

}  // namespace

bool shared_with_fleet(const std::string& kind) {
  return kind == record_kind::kSchedule || kind == record_kind::kBaseline;
}

TieredRecordStore::TieredRecordStore(std::unique_ptr<SqliteRecordStore> local,
                                     TieredOptions options)
    : local_(std::move(local)), options_(std::move(options)) {
  {
    std::lock_guard lock(redis_mutex_);
    connect_locked();
  }
  pusher_ = std::thread([this] { push_loop(); });
}

TieredRecordStore::~TieredRecordStore() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  pusher_.join();
}

void TieredRecordStore::connect_locked() {
  try {
    redis_.emplace(options_.url, options_.machine, options_.timeout_seconds);
    if (down_ && options_.log)
      options_.log(false, str_cat("the fleet's Redis ", options_.url.redacted(),
                                  " answers again; queued records go to it now"));
    down_ = false;
  } catch (const RedisError& e) {
    if (e.kind() == RedisError::Kind::Url || e.kind() == RedisError::Kind::Auth) throw;
    mark_down_locked(e.what());
  }
}

void TieredRecordStore::mark_down_locked(const std::string& why) {
  redis_.reset();
  if (down_) return;
  down_ = true;
  if (options_.log)
    options_.log(!warned_,
                 str_cat("the fleet's Redis ", options_.url.redacted(), " does not answer (", why,
                         "): the local tuning cache serves alone, and new records "
                         "wait here until Redis answers"));
  warned_ = true;
}

bool TieredRecordStore::with_redis(const std::function<void(RedisRecordStore&)>& call) {
  std::lock_guard lock(redis_mutex_);
  if (!redis_) return false;  // down: the pushing thread reconnects
  try {
    call(*redis_);
    return true;
  } catch (const RedisError& e) {
    if (e.kind() == RedisError::Kind::Reply) {
      if (options_.log)
        options_.log(true, str_cat("the fleet's Redis ", options_.url.redacted(), ": ", e.what()));
      return false;
    }
    mark_down_locked(e.what());
    return false;
  }
}

std::vector<int64_t> TieredRecordStore::commit(const Workload& workload,
                                               const std::vector<TuningRecord>& records) {
  std::vector<int64_t> ids = local_->commit(workload, records);
  std::vector<TuningRecord> shared;
  for (const TuningRecord& r : records)
    if (shared_with_fleet(r.kind) && r.source == "local") shared.push_back(r);
  if (!shared.empty()) {
    std::lock_guard lock(queue_mutex_);
    queue_.emplace_back(workload, std::move(shared));
  }
  queue_changed_.notify_all();
  return ids;
}

std::optional<TuningRecord> TieredRecordStore::best(const Workload& workload,
                                                    const TargetFingerprint& target,
                                                    const std::string& kind) {
  std::optional<TuningRecord> found = local_->best(workload, target, kind);
  if (found || kind != record_kind::kSchedule) return found;
  const std::pair<std::string, std::string> asked{workload.key.hex(), target_digest(target)};
  {
    std::lock_guard lock(redis_mutex_);
    if (!redis_ || !asked_.insert(asked).second) return std::nullopt;
  }
  FleetRecords fleet;
  if (!with_redis([&](RedisRecordStore& redis) { fleet = redis.fetch(workload.key, target); })) {
    std::lock_guard lock(redis_mutex_);
    asked_.erase(asked);  // not answered: ask again once Redis is back
    return std::nullopt;
  }
  if (options_.log) {
    for (const std::string& why : fleet.garbage)
      options_.log(true,
                   str_cat("the fleet's Redis ", options_.url.redacted(), ": skipped: ", why));
    if (fleet.workload && fleet.workload->canonical != workload.canonical)
      options_.log(true, str_cat("the fleet's Redis holds another program under workload key ",
                                 workload.key.hex(),
                                 " (a hash collision): its records are not "
                                 "used"));
  }
  if (!fleet.workload || fleet.workload->canonical != workload.canonical) return std::nullopt;
  std::vector<TuningRecord> imported;
  for (const FleetSchedule& s : fleet.schedules) {
    if (static_cast<int>(imported.size()) == options_.imported_per_workload) break;
    imported.push_back(s.record);
  }
  if (imported.empty()) return std::nullopt;
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

void TieredRecordStore::push_loop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::pair<Workload, std::vector<TuningRecord>> item = std::move(queue_.front());
    queue_.pop_front();
    in_flight_ = item.second.size();
    lock.unlock();
    bool done = false;
    {
      std::lock_guard redis_lock(redis_mutex_);
      if (!redis_) {
        try {
          connect_locked();
        } catch (const RedisError& e) {  // credentials changed meanwhile: wait as if down
          mark_down_locked(e.what());
        }
      }
      if (redis_) {
        try {
          PushResult pushed = redis_->push(item.first, item.second);
          if (pushed.conflicts && options_.log)
            options_.log(true, str_cat("the fleet's Redis holds another program under workload "
                                       "key ",
                                       item.first.key.hex(), ": ", pushed.conflicts,
                                       " records of this one stay local"));
          done = true;
        } catch (const RedisError& e) {
          if (e.kind() == RedisError::Kind::Reply) {
            done = true;  // Redis refuses these records: retrying cannot change that
            if (options_.log)
              options_.log(true, str_cat("the fleet's Redis refused ", item.second.size(),
                                         " records: ", e.what()));
          } else {
            mark_down_locked(e.what());
          }
        }
      }
    }
    lock.lock();
    in_flight_ = 0;
    if (!done) {
      queue_.push_front(std::move(item));
      if (stopping_) return;  // they stay in the local store (`kiln cache push`)
      queue_changed_.notify_all();
      queue_changed_.wait_for(lock, seconds(options_.retry_seconds), [&] { return stopping_; });
      continue;
    }
    queue_changed_.notify_all();
  }
}

size_t TieredRecordStore::flush(double timeout_seconds) {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait_until(
      lock, Clock::now() + std::chrono::duration_cast<Clock::duration>(seconds(timeout_seconds)),
      [&] { return queue_.empty() && in_flight_ == 0; });
  size_t left = in_flight_;
  for (const auto& [workload, records] : queue_) left += records.size();
  return left;
}

size_t TieredRecordStore::pending() {
  return flush(0);
}

bool TieredRecordStore::redis_up() {
  std::lock_guard lock(redis_mutex_);
  return redis_.has_value();
}

}  // namespace kiln
