#include "providers/state_store.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace dynoherd;
using namespace dynoherd::providers;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "dynoherd-state-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

model::PolicyStatus Sample(const std::string& policy, int depth) {
  model::PolicyStatus s;
  s.policy = policy;
  s.app = policy + "-prod";
  s.updated_at = *ParseTimestamp("2026-11-22T13:00:00Z");
  model::FormationStatus f;
  f.type = "worker";
  f.event.started_at = *ParseTimestamp("2026-11-22T12:58:00Z");
  f.event.depth = depth;
  f.restarts.push_back({"worker.2", *ParseTimestamp("2026-11-22T12:00:00Z"),
                        spec::LaggardAction::kRestart, "laggard"});
  s.formations.push_back(f);
  return s;
}

}  // namespace

TEST_CASE("a missing file is an empty state; saves read back after reopening") {
  TempDir dir;
  const std::string path = dir.File("nested/deeper/state.json");
  {
    auto store = StateStore::Open(path);
    REQUIRE(store.ok());
    CHECK((*store)->Policies().empty());
    CHECK((*store)->Find("shop") == nullptr);
    CHECK(!fs::exists(path));  // nothing written until asked
    REQUIRE((*store)->Save(Sample("shop", 1)).ok());
    REQUIRE((*store)->Save(Sample("blog", 2)).ok());
    REQUIRE((*store)->Save(Sample("shop", 2)).ok());  // replaces, keeps blog
  }
  auto store = StateStore::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->Policies() == std::vector<std::string>{"blog", "shop"});
  REQUIRE((*store)->Find("shop") != nullptr);
  CHECK(*(*store)->Find("shop") == Sample("shop", 2));
  CHECK(*(*store)->Find("blog") == Sample("blog", 2));

  const auto doc = nlohmann::json::parse(ReadFile(path));
  CHECK(doc["version"] == FileStateStore::kVersion);
  CHECK(doc["policies"]["shop"]["formations"][0]["event"]["depth"] == 2);
  CHECK((fs::status(path).permissions() & fs::perms::others_read) == fs::perms::none);

  (*store)->Remove("blog");
  REQUIRE((*store)->Write().ok());
  CHECK(nlohmann::json::parse(ReadFile(path))["policies"].size() == 1);
}

TEST_CASE("writes leave no temporary file behind") {
  TempDir dir;
  auto store = StateStore::Open(dir.File("state.json"));
  REQUIRE(store.ok());
  for (int i = 0; i < 5; ++i)
    REQUIRE((*store)->Save(Sample("shop", i)).ok());
  CHECK(dir.Entries() == std::vector<std::string>{"state.json", "state.json.lock"});
}

TEST_CASE("a second store on the same file is refused while the first holds it") {
  TempDir dir;
  const std::string path = dir.File("state.json");
  {
    auto first = StateStore::Open(path);
    REQUIRE(first.ok());
    auto second = StateStore::Open(path);
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().message() == "another dynoherd holds " + path);
    CHECK(second.status().code() == dynoherd::Status::Code::kFailedPrecondition);

    // Another process is refused the same way.
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      auto other = StateStore::Open(path);
      ::_exit(!other.ok() && other.status().message() == "another dynoherd holds " + path ? 0 : 1);
    }
    int wstatus = 0;
    REQUIRE(::waitpid(child, &wstatus, 0) == child);
    CHECK(WIFEXITED(wstatus));
    CHECK(WEXITSTATUS(wstatus) == 0);

    // Looking without the lock is fine; writing through such a store is not.
    REQUIRE((*first)->Save(Sample("shop", 1)).ok());
    auto reader = StateStore::OpenReadOnly(path);
    REQUIRE(reader.ok());
    CHECK(*(*reader)->Find("shop") == Sample("shop", 1));
    CHECK((*reader)->Save(Sample("shop", 2)).message() ==
          "state file " + path + " was opened read-only");
  }
  CHECK(StateStore::Open(path).ok());  // released with the first store
}

TEST_CASE("a corrupt file is an error naming it, and is left as it was") {
  TempDir dir;
  const std::string path = dir.File("state.json");
  const std::string suffix =
      " (dynoherd never resets a state file: repair it, move it away, or pass another --state)";

  WriteFile(path, "{\"version\": 1, \"policies\": {\n  \"shop\": [}");
  auto r = StateStore::Open(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().starts_with("state file " + path +
                                         " is not valid JSON: parse error at line 2, column 12"));
  CHECK(r.status().message().ends_with(suffix));
  CHECK(ReadFile(path) == "{\"version\": 1, \"policies\": {\n  \"shop\": [}");

  WriteFile(path, "");
  CHECK(StateStore::Open(path).status().message().starts_with("state file " + path +
                                                              " is not valid JSON"));

  WriteFile(path, R"({"policies": {}})");
  CHECK(StateStore::Open(path).status().message() ==
        "state file " + path + " is corrupt: \"version\" must be a positive integer" + suffix);

  WriteFile(path, R"({"version": 1})");
  CHECK(StateStore::Open(path).status().message() ==
        "state file " + path + " is corrupt: \"policies\" must be an object" + suffix);

  WriteFile(path, R"({"version": 1, "policies": {"shop": {"policy": "shop", "app": "a",
      "updatedAt": "2026-11-22T13:00:00Z", "formations": [{"type": "web"}]}}})");
  CHECK(StateStore::Open(path).status().message() ==
        "state file " + path + " is corrupt: policies.shop: formations[0].event: missing" + suffix);

  WriteFile(path, R"({"version": 1, "policies": {"shop": {"policy": "blog", "app": "a",
      "updatedAt": "2026-11-22T13:00:00Z"}}})");
  CHECK(StateStore::Open(path).status().message() ==
        "state file " + path + " is corrupt: policies.shop.policy is \"blog\"" + suffix);
}

TEST_CASE("a file from a newer dynoherd is refused, not overwritten") {
  TempDir dir;
  const std::string path = dir.File("state.json");
  WriteFile(path, R"({"version": 2, "policies": {}, "somethingNew": true})");
  auto r = StateStore::Open(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "state file " + path +
                                    " was written by a newer dynoherd (state version 2; this one "
                                    "reads version 1): upgrade dynoherd or pass another --state");
  CHECK(ReadFile(path) == R"({"version": 2, "policies": {}, "somethingNew": true})");
}

TEST_CASE("a state path that is a directory is a clear error") {
  TempDir dir;
  fs::create_directory(dir.File("state.json"));
  auto r = StateStore::Open(dir.File("state.json"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "cannot read the state file " + dir.File("state.json") + ": Is a directory");
}

TEST_CASE("the default state path follows the XDG base directory spec") {
  CHECK(DefaultStatePath("/var/state", "/home/ann").value() == "/var/state/dynoherd/state.json");
  CHECK(DefaultStatePath("", "/home/ann").value() == "/home/ann/.local/state/dynoherd/state.json");
  // A relative XDG_STATE_HOME is invalid by the spec and ignored.
  CHECK(DefaultStatePath("state", "/home/ann").value() ==
        "/home/ann/.local/state/dynoherd/state.json");
  auto none = DefaultStatePath("", "");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() ==
        "no place for the state file: neither XDG_STATE_HOME nor HOME is set; pass --state PATH");
}

TEST_CASE("last passes: kept beside the statuses, opaque, removed with the policy") {
  TempDir dir;
  const std::string path = dir.File("state.json");
  const nlohmann::json record = {{"result", "error"}, {"error", "503"}, {"anything", {1, 2}}};
  {
    auto store = StateStore::Open(path);
    REQUIRE(store.ok());
    CHECK((*store)->FindLastPass("billing") == nullptr);
    (*store)->PutLastPass("billing", record);  // a first pass that failed: no status yet
    REQUIRE((*store)->Save(Sample("shop", 1)).ok());
    CHECK((*store)->ReportedPolicies() == std::vector<std::string>{"billing", "shop"});
    CHECK((*store)->Policies() == std::vector<std::string>{"shop"});
  }
  auto store = StateStore::OpenReadOnly(path);
  REQUIRE(store.ok());
  REQUIRE((*store)->FindLastPass("billing") != nullptr);
  CHECK(*(*store)->FindLastPass("billing") == record);
  CHECK(nlohmann::json::parse(ReadFile(path))["lastPasses"]["billing"] == record);

  auto writer = StateStore::Open(path);
  REQUIRE(writer.ok());
  (*writer)->Remove("billing");
  REQUIRE((*writer)->Write().ok());
  CHECK(!nlohmann::json::parse(ReadFile(path)).contains("lastPasses"));
}

TEST_CASE("last passes: a version 1 file written before them reads as having none") {
  TempDir dir;
  const std::string path = dir.File("state.json");
  // Exactly what the first version 1 writer produced.
  WriteFile(path, R"({
  "policies": {
    "shop": {
      "app": "shop-prod",
      "formations": [
        {
          "conditions": [],
          "event": {"capturedBaseline": null, "depth": 1, "lastStepAt": null,
                    "startedAt": "2026-11-22T12:58:00.000Z"},
          "restarts": [],
          "type": "worker"
        }
      ],
      "policy": "shop",
      "updatedAt": "2026-11-22T13:00:00.000Z"
    }
  },
  "version": 1
}
)");
  auto store = StateStore::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->FindLastPass("shop") == nullptr);
  CHECK((*store)->ReportedPolicies() == std::vector<std::string>{"shop"});
  REQUIRE((*store)->Find("shop") != nullptr);
  CHECK((*store)->Find("shop")->formations.at(0).event.depth == 1);
  // Saving without a last pass writes the same shape back: no "lastPasses" key.
  REQUIRE((*store)->Write().ok());
  auto doc = nlohmann::json::parse(ReadFile(path));
  CHECK(doc["version"] == 1);
  CHECK(!doc.contains("lastPasses"));
}

TEST_CASE("last passes: a malformed lastPasses is a corrupt file, left as it was") {
  TempDir dir;
  const std::string path = dir.File("state.json");
  const std::string suffix =
      " (dynoherd never resets a state file: repair it, move it away, or pass another --state)";
  WriteFile(path, R"({"version": 1, "policies": {}, "lastPasses": []})");
  CHECK(StateStore::Open(path).status().message() ==
        "state file " + path + " is corrupt: \"lastPasses\" must be an object" + suffix);
  WriteFile(path, R"({"version": 1, "policies": {}, "lastPasses": {"shop": 3}})");
  CHECK(StateStore::OpenReadOnly(path).status().message() ==
        "state file " + path + " is corrupt: lastPasses.shop must be an object" + suffix);
  CHECK(ReadFile(path) == R"({"version": 1, "policies": {}, "lastPasses": {"shop": 3}})");
}
