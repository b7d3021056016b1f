// Where each policy's PolicyStatus lives between passes: StateStore, the interface the passes and
// the daemon use; FileStateStore, the default, below; the Redis store shared by replicas in
// providers/redis/redis_state_store.h.
//
// The status file: every policy's PolicyStatus in one versioned JSON file (`--state PATH`).
// Written atomically (temporary file in the same directory, fsync, rename, fsync of the directory)
// and locked (flock on PATH.lock) for as long as a process holds the store, so two dynoherds never
// act on the same formations from different memories. A file this version cannot read is an error
// naming it: dynoherd never resets a state file behind the user's back.
//
// The file: {"version": 1, "policies": {NAME: PolicyStatus}, "lastPasses": {NAME: object}}.
// "lastPasses" (reporting data for `dynoherd status`) was added within version 1: files without it
// read as having none, and a dynoherd that predates it ignores it.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/status.h"

namespace dynoherd::providers {

// The default --state: $XDG_STATE_HOME/dynoherd/state.json when that is an absolute path, else
// $HOME/.local/state/dynoherd/state.json. Empty arguments mean unset.
Result<std::string> DefaultStatePath(std::string_view xdg_state_home, std::string_view home);
Result<std::string> DefaultStatePath();  // from the environment

// Where the statuses live between passes: the file (FileStateStore, the default) or a Redis shared
// by several replicas (providers/redis/redis_state_store.h). Not thread-safe: the daemon uses it
// under its own lock.
class StateStore {
 public:
  // The file store (FileStateStore::Open and OpenReadOnly), the embedded default.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  static Result<std::unique_ptr<StateStore>> OpenReadOnly(const std::string& path);

  virtual ~StateStore() = default;

  // Names the store in messages: the file's path, or the Redis URL with its password masked.
  virtual std::string where() const = 0;

  // The saved status of a policy, or nullptr if none was ever saved.
  virtual const model::PolicyStatus* Find(std::string_view policy) const = 0;
  virtual std::vector<std::string> Policies() const = 0;  // sorted

  // Reporting data kept beside the statuses: one JSON object per policy (model::PassRecord in
  // the form of model/codec.h), opaque to the store and never read by the reconciler.
  virtual const nlohmann::json* FindLastPass(std::string_view policy) const = 0;
  // REQUIRES: `record` is an object.
  virtual void PutLastPass(const std::string& policy, nlohmann::json record) = 0;
  // Policies with a saved status or a last pass, sorted.
  std::vector<std::string> ReportedPolicies() const;

  // Replace statuses in memory; Write makes every change durable.
  virtual void Put(model::PolicyStatus status) = 0;
  virtual void Remove(std::string_view policy) = 0;  // its status and its last pass
  virtual Status Write() = 0;
  // Put + Write.
  Status Save(model::PolicyStatus status);

  // Reads the policy's status and last pass again: another process may have written them since
  // (a replica that just took the policy's lease over). The file store, locked by one process,
  // has nothing new to read.
  virtual Status Refresh(std::string_view /*policy*/) { return Status::Ok(); }

 protected:
  virtual std::vector<std::string> LastPassPolicies() const = 0;  // sorted
};

class FileStateStore final : public StateStore {
 public:
  static constexpr int kVersion = 1;  // the file format this build reads and writes

  // Creates the directory if needed, takes the lock (held until the store is destroyed) and reads
  // the file; a missing file is an empty state. Another process (or store) holding the lock gets
  // FailedPrecondition "another dynoherd holds PATH".
  static Result<std::unique_ptr<FileStateStore>> Open(const std::string& path);
  // Reads without locking, for looking while another dynoherd runs (`plan`, `status`). The file
  // is always replaced whole, so a read never sees half a write. Write fails on such a store.
  static Result<std::unique_ptr<FileStateStore>> OpenReadOnly(const std::string& path);

  ~FileStateStore() override;
  FileStateStore(const FileStateStore&) = delete;
  FileStateStore& operator=(const FileStateStore&) = delete;

  const std::string& path() const { return path_; }
  std::string where() const override { return path_; }

  const model::PolicyStatus* Find(std::string_view policy) const override;
  std::vector<std::string> Policies() const override;
  const nlohmann::json* FindLastPass(std::string_view policy) const override;
  void PutLastPass(const std::string& policy, nlohmann::json record) override;
  void Put(model::PolicyStatus status) override;
  void Remove(std::string_view policy) override;
  // Puts every status into the file at once.
  Status Write() override;

 protected:
  std::vector<std::string> LastPassPolicies() const override;

 private:
  FileStateStore(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  Status Read();

  std::string path_;
  int lock_fd_ = -1;  // -1: read-only
  std::map<std::string, model::PolicyStatus, std::less<>> statuses_;
  std::map<std::string, nlohmann::json, std::less<>> last_passes_;
};

}  // namespace dynoherd::providers
