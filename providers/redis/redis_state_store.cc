#include "providers/redis/redis_state_store.h"

#include <algorithm>
#include <charconv>

#include "model/codec.h"

namespace dynoherd::providers::redis {
namespace {

using nlohmann::json;

// KEYS: the status hash, the lease. ARGV: the version the writer last saw, its lease token (""
// unfenced), the status JSON ("" none), the last-pass JSON ("" none), "1" to delete the key.
// Answers {1, new version}, {0, current version} when stale, {-1, current version} when the
// lease is not the writer's.
constexpr char kWriteScript[] = R"lua(
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0') or -1
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then return {-1, current} end
if current ~= tonumber(ARGV[1]) then return {0, current} end
if ARGV[5] == '1' then
  redis.call('DEL', KEYS[1])
  return {1, 0}
end
local next = current + 1
redis.call('HSET', KEYS[1], 'version', next)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'status', ARGV[3])
else redis.call('HDEL', KEYS[1], 'status') end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'lastPass', ARGV[4])
else redis.call('HDEL', KEYS[1], 'lastPass') end
return {1, next}
)lua";

constexpr std::string_view kStatusSuffix = "}:status";

std::optional<int64_t> ParseVersion(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

RedisCommand ReadCommand(const std::string& key) {
  return {"HMGET", key, "version", "status", "lastPass"};
}

}  // namespace

std::string RedisKeys::Status(std::string_view policy) const {
  return prefix + "{" + std::string(policy) + std::string(kStatusSuffix);
}
std::string RedisKeys::Lease(std::string_view policy) const {
  return prefix + "{" + std::string(policy) + "}:lease";
}
std::string RedisKeys::Replicas() const { return prefix + "replicas"; }
std::string RedisKeys::StatusPattern() const { return prefix + "{*" + std::string(kStatusSuffix); }

std::optional<std::string> RedisKeys::PolicyOfStatusKey(std::string_view key) const {
  const std::string head = prefix + "{";
  if (key.size() <= head.size() + kStatusSuffix.size() || !key.starts_with(head) ||
      !key.ends_with(kStatusSuffix)) {
    return std::nullopt;
  }
  return std::string(key.substr(head.size(), key.size() - head.size() - kStatusSuffix.size()));
}

RedisStateStore::RedisStateStore(std::shared_ptr<SharedRedisConnection> connection,
                                 RedisStateStoreOptions options)
    : connection_(std::move(connection)),
      options_(std::move(options)),
      write_script_("status write", kWriteScript) {}

Result<std::unique_ptr<RedisStateStore>> RedisStateStore::Open(
    std::shared_ptr<SharedRedisConnection> connection, RedisStateStoreOptions options) {
  std::unique_ptr<RedisStateStore> store(
      new RedisStateStore(std::move(connection), std::move(options)));
  if (Status s = store->ReadAll(); !s.ok()) return s;
  return store;
}

Status RedisStateStore::ReadAll() {
  // SCAN visits every key present for the whole scan at least once; statuses only accumulate.
  std::vector<std::string> policies;
  std::string cursor = "0";
  Status scanned = connection_->With([&](RedisConnection& c) -> Status {
    do {
      Result<RedisReply> page = c.Command(
          {"SCAN", cursor, "MATCH", options_.keys.StatusPattern(), "COUNT", "1000"});
      if (!page.ok()) return page.status();
      if (page->type != RedisReply::Type::kArray || page->elements.size() != 2) {
        return Status::Internal(c.where() + ": SCAN answered " + DescribeReply(*page));
      }
      cursor = page->elements[0].text;
      for (const RedisReply& key : page->elements[1].elements) {
        if (auto policy = options_.keys.PolicyOfStatusKey(key.text)) policies.push_back(*policy);
      }
    } while (cursor != "0");
    return Status::Ok();
  });
  if (!scanned.ok()) return scanned;
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
  if (policies.empty()) return Status::Ok();

  std::vector<RedisCommand> reads;
  for (const std::string& policy : policies)
    reads.push_back(ReadCommand(options_.keys.Status(policy)));
  Result<std::vector<RedisReply>> replies =
      connection_->With([&](RedisConnection& c) { return c.Pipeline(reads); });
  if (!replies.ok()) return replies.status();
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < policies.size(); ++i) {
    Result<Entry> entry = EntryOf(policies[i], (*replies)[i]);
    if (!entry.ok()) return entry.status();
    if (entry->version > 0) entries_.insert_or_assign(policies[i], std::move(entry).value());
  }
  return Status::Ok();
}

Result<RedisStateStore::Entry> RedisStateStore::EntryOf(const std::string& policy,
                                                        const RedisReply& reply) const {
  const std::string key = options_.keys.Status(policy);
  auto invalid = [&](const std::string& what) {
    return Status::FailedPrecondition(where() + " key " + key + " is not a valid status: " + what +
                                      " (dynoherd never resets a status: repair or delete the key)");
  };
  if (reply.is_error()) return invalid(reply.text);
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 3) {
    return invalid("not a hash of version, status and lastPass");
  }
  const RedisReply& version = reply.elements[0];
  const RedisReply& status = reply.elements[1];
  const RedisReply& last_pass = reply.elements[2];
  Entry entry;
  if (version.is_nil()) {
    if (!status.is_nil() || !last_pass.is_nil()) return invalid("it has no version");
    return entry;  // no such key (deleted since the scan)
  }
  std::optional<int64_t> parsed_version = ParseVersion(version.text);
  if (!parsed_version) return invalid("version must be a positive integer");
  entry.version = *parsed_version;
  auto parse = [&](const RedisReply& field, const char* name) -> Result<std::optional<json>> {
    if (field.is_nil()) return std::optional<json>();
    try {
      return std::optional<json>(json::parse(field.text));
    } catch (const json::parse_error&) {
      return invalid(std::string(name) + " is not valid JSON");
    }
  };
  Result<std::optional<json>> status_json = parse(status, "status");
  if (!status_json.ok()) return status_json.status();
  if (*status_json) {
    Result<model::PolicyStatus> decoded = model::PolicyStatusFromJson(**status_json);
    if (!decoded.ok()) return invalid("status: " + decoded.status().message());
    if (decoded->policy != policy) return invalid("status.policy is \"" + decoded->policy + "\"");
    entry.status = std::move(decoded).value();
  }
  Result<std::optional<json>> last_json = parse(last_pass, "lastPass");
  if (!last_json.ok()) return last_json.status();
  if (*last_json) {
    if (!(*last_json)->is_object()) return invalid("lastPass must be an object");
    entry.last_pass = std::move(**last_json);
  }
  return entry;
}

Status RedisStateStore::Refresh(std::string_view policy) {
  const std::string name(policy);
  Result<RedisReply> reply = connection_->With(
      [&](RedisConnection& c) { return c.Command(ReadCommand(options_.keys.Status(name))); });
  if (!reply.ok()) return reply.status();
  Result<Entry> entry = EntryOf(name, *reply);
  if (!entry.ok()) return entry.status();
  std::lock_guard lock(mu_);
  dirty_.erase(name);  // what this store had not written yet came from an older view
  if (entry->version == 0) {
    entries_.erase(name);
  } else {
    entries_.insert_or_assign(name, std::move(entry).value());
  }
  return Status::Ok();
}

const model::PolicyStatus* RedisStateStore::Find(std::string_view policy) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(policy);
  if (it == entries_.end() || it->second.removed || !it->second.status) return nullptr;
  return &*it->second.status;
}

std::vector<std::string> RedisStateStore::Policies() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) {
    if (!entry.removed && entry.status) out.push_back(name);
  }
  return out;
}

std::vector<std::string> RedisStateStore::LastPassPolicies() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) {
    if (!entry.removed && entry.last_pass) out.push_back(name);
  }
  return out;
}

const nlohmann::json* RedisStateStore::FindLastPass(std::string_view policy) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(policy);
  if (it == entries_.end() || it->second.removed || !it->second.last_pass) return nullptr;
  return &*it->second.last_pass;
}

void RedisStateStore::PutLastPass(const std::string& policy, nlohmann::json record) {
  std::lock_guard lock(mu_);
  Entry& entry = entries_[policy];
  entry.removed = false;
  entry.last_pass = std::move(record);
  dirty_.insert(policy);
}

void RedisStateStore::Put(model::PolicyStatus status) {
  std::lock_guard lock(mu_);
  std::string name = status.policy;
  Entry& entry = entries_[name];
  entry.removed = false;
  entry.status = std::move(status);
  dirty_.insert(std::move(name));
}

void RedisStateStore::Remove(std::string_view policy) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(policy);
  if (it == entries_.end()) return;
  it->second.removed = true;
  it->second.status.reset();
  it->second.last_pass.reset();
  dirty_.insert(std::string(policy));
}

int64_t RedisStateStore::VersionOf(std::string_view policy) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(policy);
  return it == entries_.end() ? 0 : it->second.version;
}

Status RedisStateStore::Write() {
  if (options_.read_only) {
    return Status::FailedPrecondition("the store " + where() + " was opened read-only");
  }
  std::lock_guard lock(mu_);
  Status first = Status::Ok();
  int more = 0;
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    Status s = WriteOne(*it, entries_[*it]);
    // A refused write is dropped; a failed exchange stays to be retried by the next Write.
    const bool retry = !s.ok() && s.code() != Status::Code::kFailedPrecondition;
    it = retry ? std::next(it) : dirty_.erase(it);
    if (s.ok()) continue;
    if (first.ok()) {
      first = s;
    } else {
      ++more;
    }
  }
  if (more == 0) return first;
  std::string message = first.message() + " (and " + std::to_string(more) + " more not written)";
  return first.code() == Status::Code::kFailedPrecondition ? Status::FailedPrecondition(message)
                                                            : Status::Unavailable(message);
}

Status RedisStateStore::WriteOne(const std::string& policy, Entry& entry) {
  std::string token;
  if (options_.lease_token) {
    std::optional<std::string> held = options_.lease_token(policy);
    if (!held) {
      return Status::FailedPrecondition("this dynoherd does not hold the lease of policy " +
                                        policy + ": its status was not written to " + where());
    }
    token = *held;
  }
  std::vector<std::string> args{std::to_string(entry.version), token,
                                entry.status ? model::ToJson(*entry.status).dump() : "",
                                entry.last_pass ? entry.last_pass->dump() : "",
                                entry.removed ? "1" : "0"};
  Result<RedisReply> reply = connection_->With([&](RedisConnection& c) {
    return write_script_.Run(c, {options_.keys.Status(policy), options_.keys.Lease(policy)}, args);
  });
  if (!reply.ok()) return reply.status().WithContext("writing the status of policy " + policy);
  if (reply->type != RedisReply::Type::kArray || reply->elements.empty()) {
    return Status::Internal(where() + ": the status write answered " + DescribeReply(*reply));
  }
  const int64_t outcome = reply->elements[0].integer;
  const std::string current =
      reply->elements.size() > 1 ? std::to_string(reply->elements[1].integer) : "unreadable";
  if (outcome == -1) {
    return Status::FailedPrecondition("the lease of policy " + policy +
                                      " is no longer this dynoherd's: its status was not written "
                                      "to " + where());
  }
  if (outcome == 0) {
    return Status::FailedPrecondition(
        "the status of policy " + policy + " in " + where() +
        " was written by another dynoherd since this one read it (version " + current +
        ", expected " + std::to_string(entry.version) + "): not overwritten");
  }
  entry.version = reply->elements.size() > 1 ? reply->elements[1].integer : entry.version + 1;
  if (entry.removed) entries_.erase(policy);
  return Status::Ok();
}

}  // namespace dynoherd::providers::redis
