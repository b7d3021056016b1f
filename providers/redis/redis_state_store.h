// The statuses in a Redis shared by several dynoherd replicas (`--store redis://...`), one hash
// per policy:
//   <prefix>{<policy>}:status   version  1, 2, ...: counts the writes of this key
//                               status   the PolicyStatus (model/codec.h JSON); absent: none
//                               lastPass the last-pass record (JSON object); absent: none
// A write is a compare-and-set script: it replaces the hash only if the version is still the one
// this process last read or wrote, and (when fenced) only while the policy's lease key
// (providers/redis/redis_lease.h) holds this process's token. A stale writer (a replica paused
// past its lease, a reconcile that read before the daemon wrote) is refused, never overwrites.
//
// Values read back are checked as the state file's are (a JSON status for the key's own policy);
// the pass then checks every formation's status against its spec (model/status_validation.h).
// Thread-safe; a pointer Find or FindLastPass returns stays valid until that policy's next Put,
// Remove or Refresh. Errors name the server without its password ("redis://10.0.0.5:6379").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "providers/redis/redis_script.h"
#include "providers/redis/shared_connection.h"
#include "providers/state_store.h"

namespace dynoherd::providers::redis {

// The names of dynoherd's keys. The policy sits in a hash tag ({web}), so a policy's status and
// lease live in one slot of a Redis Cluster and one script may touch both.
struct RedisKeys {
  std::string prefix = "dynoherd:";

  std::string Status(std::string_view policy) const;
  std::string Lease(std::string_view policy) const;
  std::string Replicas() const;  // the sorted set of live replicas (heartbeats)
  std::string StatusPattern() const;  // SCAN MATCH pattern of every status key
  // The policy of a status key; nullopt for another key.
  std::optional<std::string> PolicyOfStatusKey(std::string_view key) const;
};

struct RedisStateStoreOptions {
  RedisKeys keys{};
  bool read_only = false;  // `plan`, `status`: Write fails
  // The lease token under which this process writes `policy`; nullopt when it holds no lease of
  // it (Write then refuses that policy). Empty function: writes are not fenced by a lease.
  std::function<std::optional<std::string>(std::string_view policy)> lease_token{};
};

class RedisStateStore final : public StateStore {
 public:
  // Reads every policy's key (SCAN). Errors: the server (Unavailable, Unauthenticated, ...), or
  // FailedPrecondition naming a key whose value is not a valid status.
  static Result<std::unique_ptr<RedisStateStore>> Open(
      std::shared_ptr<SharedRedisConnection> connection, RedisStateStoreOptions options);

  std::string where() const override { return connection_->where(); }
  const model::PolicyStatus* Find(std::string_view policy) const override;
  std::vector<std::string> Policies() const override;
  const nlohmann::json* FindLastPass(std::string_view policy) const override;
  void PutLastPass(const std::string& policy, nlohmann::json record) override;
  void Put(model::PolicyStatus status) override;
  void Remove(std::string_view policy) override;
  // Writes each policy changed since its last write, one compare-and-set each. Errors: the first
  // refused or failed write (and how many more failed). A refused write (stale version, lease not
  // held) is dropped: what it would have written came from an outdated view.
  Status Write() override;
  Status Refresh(std::string_view policy) override;

  // The version of the policy's key this store last read or wrote; 0: none.
  int64_t VersionOf(std::string_view policy) const;

 protected:
  std::vector<std::string> LastPassPolicies() const override;

 private:
  struct Entry {
    int64_t version = 0;
    std::optional<model::PolicyStatus> status;
    std::optional<nlohmann::json> last_pass;
    bool removed = false;  // Remove: the key is deleted by the next Write
  };

  RedisStateStore(std::shared_ptr<SharedRedisConnection> connection,
                  RedisStateStoreOptions options);
  Status ReadAll();
  // The policy's entry from its HMGET reply; the error names the key.
  Result<Entry> EntryOf(const std::string& policy, const RedisReply& reply) const;
  Status WriteOne(const std::string& policy, Entry& entry);

  const std::shared_ptr<SharedRedisConnection> connection_;
  const RedisStateStoreOptions options_;
  const RedisScript write_script_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::set<std::string, std::less<>> dirty_;
};

}  // namespace dynoherd::providers::redis
