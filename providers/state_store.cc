#include "providers/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/codec.h"
#include "providers/atomic_file.h"

namespace dynoherd::providers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ParentDirectory(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Status EnsureDirectory(const std::string& path) {
  std::error_code ec;
  fs::create_directories(ParentDirectory(path), ec);
  if (ec) {
    return Status::FailedPrecondition("cannot create the directory of the state file " + path +
                                      ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> DefaultStatePath(std::string_view xdg_state_home, std::string_view home) {
  // The XDG base directory spec: a relative XDG_STATE_HOME is invalid and must be ignored.
  if (!xdg_state_home.empty() && xdg_state_home.front() == '/') {
    return (fs::path(xdg_state_home) / "dynoherd" / "state.json").string();
  }
  if (!home.empty()) {
    return (fs::path(home) / ".local" / "state" / "dynoherd" / "state.json").string();
  }
  return Status::FailedPrecondition(
      "no place for the state file: neither XDG_STATE_HOME nor HOME is set; pass --state PATH");
}

Result<std::string> DefaultStatePath() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  return DefaultStatePath(xdg ? xdg : "", home ? home : "");
}

Result<std::unique_ptr<FileStateStore>> FileStateStore::Open(const std::string& path) {
  if (Status s = EnsureDirectory(path); !s.ok()) return s;
  // The lock lives in its own file: the state file is replaced by rename on every write, and a
  // lock on the replaced inode would protect nothing.
  const std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::FailedPrecondition("cannot open the lock file " + lock_path + ": " + ErrnoText());
  }
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) return Status::FailedPrecondition("another dynoherd holds " + path);
    return Status::FailedPrecondition("cannot lock " + lock_path + ": " + std::strerror(error));
  }
  std::unique_ptr<FileStateStore> store(new FileStateStore(path, fd));
  if (Status s = store->Read(); !s.ok()) return s;
  return store;
}

Result<std::unique_ptr<FileStateStore>> FileStateStore::OpenReadOnly(const std::string& path) {
  std::unique_ptr<FileStateStore> store(new FileStateStore(path, -1));
  if (Status s = store->Read(); !s.ok()) return s;
  return store;
}

FileStateStore::~FileStateStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status FileStateStore::Read() {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();  // never written: an empty state
    return Status::FailedPrecondition("cannot read the state file " + path_ + ": " + ErrnoText());
  }
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string error = ErrnoText();
      ::close(fd);
      return Status::FailedPrecondition("cannot read the state file " + path_ + ": " + error);
    }
    text.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);

  const std::string never_reset =
      " (dynoherd never resets a state file: repair it, move it away, or pass another --state)";
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return Status::FailedPrecondition("state file " + path_ + " is not valid JSON: " + what +
                                      never_reset);
  }
  auto corrupt = [&](const std::string& what) {
    return Status::FailedPrecondition("state file " + path_ + " is corrupt: " + what + never_reset);
  };
  if (!doc.is_object()) return corrupt("expected a JSON object");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() < 1) {
    return corrupt("\"version\" must be a positive integer");
  }
  if (version->get<int64_t>() > kVersion) {
    return Status::FailedPrecondition(
        "state file " + path_ + " was written by a newer dynoherd (state version " +
        std::to_string(version->get<int64_t>()) + "; this one reads version " +
        std::to_string(kVersion) + "): upgrade dynoherd or pass another --state");
  }
  auto policies = doc.find("policies");
  if (policies == doc.end() || !policies->is_object()) {
    return corrupt("\"policies\" must be an object");
  }
  for (const auto& [name, value] : policies->items()) {
    Result<model::PolicyStatus> status = model::PolicyStatusFromJson(value);
    if (!status.ok()) return corrupt("policies." + name + ": " + status.status().message());
    if (status->policy != name) {
      return corrupt("policies." + name + ".policy is \"" + status->policy + "\"");
    }
    statuses_.insert_or_assign(name, std::move(*status));
  }
  if (auto last = doc.find("lastPasses"); last != doc.end()) {
    if (!last->is_object()) return corrupt("\"lastPasses\" must be an object");
    for (const auto& [name, value] : last->items()) {
      if (!value.is_object()) return corrupt("lastPasses." + name + " must be an object");
      last_passes_.insert_or_assign(name, value);
    }
  }
  return Status::Ok();
}

const model::PolicyStatus* FileStateStore::Find(std::string_view policy) const {
  auto it = statuses_.find(policy);
  return it == statuses_.end() ? nullptr : &it->second;
}

std::vector<std::string> FileStateStore::Policies() const {
  std::vector<std::string> out;
  for (const auto& [name, status] : statuses_)
    out.push_back(name);
  return out;
}

const nlohmann::json* FileStateStore::FindLastPass(std::string_view policy) const {
  auto it = last_passes_.find(policy);
  return it == last_passes_.end() ? nullptr : &it->second;
}

void FileStateStore::PutLastPass(const std::string& policy, nlohmann::json record) {
  last_passes_.insert_or_assign(policy, std::move(record));
}

std::vector<std::string> FileStateStore::LastPassPolicies() const {
  std::vector<std::string> out;
  for (const auto& [name, record] : last_passes_)
    out.push_back(name);
  return out;
}

void FileStateStore::Put(model::PolicyStatus status) {
  std::string name = status.policy;
  statuses_.insert_or_assign(std::move(name), std::move(status));
}

void FileStateStore::Remove(std::string_view policy) {
  if (auto it = statuses_.find(policy); it != statuses_.end()) statuses_.erase(it);
  if (auto it = last_passes_.find(policy); it != last_passes_.end()) last_passes_.erase(it);
}

Status FileStateStore::Write() {
  if (lock_fd_ < 0) {
    return Status::FailedPrecondition("state file " + path_ + " was opened read-only");
  }
  json policies = json::object();
  for (const auto& [name, status] : statuses_)
    policies[name] = model::ToJson(status);
  json doc = {{"version", kVersion}, {"policies", std::move(policies)}};
  if (!last_passes_.empty()) {
    json last = json::object();
    for (const auto& [name, record] : last_passes_)
      last[name] = record;
    doc["lastPasses"] = std::move(last);
  }
  const std::string text = doc.dump(2) + "\n";

  return WriteFileAtomically(path_, text, 0600, "state file");
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  Result<std::unique_ptr<FileStateStore>> store = FileStateStore::Open(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(store).value());
}

Result<std::unique_ptr<StateStore>> StateStore::OpenReadOnly(const std::string& path) {
  Result<std::unique_ptr<FileStateStore>> store = FileStateStore::OpenReadOnly(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(store).value());
}

std::vector<std::string> StateStore::ReportedPolicies() const {
  std::vector<std::string> out = Policies();
  for (const std::string& name : LastPassPolicies()) {
    if (!Find(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status StateStore::Save(model::PolicyStatus status) {
  Put(std::move(status));
  return Write();
}

}  // namespace dynoherd::providers
