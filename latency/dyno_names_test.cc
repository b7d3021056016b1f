#include "latency/dyno_names.h"

#include <doctest/doctest.h>

#include <string>

using namespace dynoherd::latency;

TEST_CASE("FormationOfDyno: classic and Fir names") {
  CHECK(FormationOfDyno("web.3") == "web");
  CHECK(FormationOfDyno("web.12") == "web");
  CHECK(FormationOfDyno("worker_high.2") == "worker_high");
  CHECK(FormationOfDyno("run.1234") == "run");
  CHECK(FormationOfDyno("web-1234abcde-123ab") == "web");
  CHECK(FormationOfDyno("my-worker-59c7b8d4f6-x7k2q") == "my-worker");
  CHECK(FormationOfDyno("api.v2.1") == "api.v2");
}

TEST_CASE("FormationOfDyno: names of no known shape are their own formation") {
  CHECK(FormationOfDyno("web") == "web");
  CHECK(FormationOfDyno("web.") == "web.");
  CHECK(FormationOfDyno(".3") == ".3");
  CHECK(FormationOfDyno("web.x") == "web.x");
  CHECK(FormationOfDyno("web-1") == "web-1");
  CHECK(FormationOfDyno("web-ABCDEF-12345") == "web-ABCDEF-12345");  // uppercase: not a pod name
  CHECK(FormationOfDyno("-abcd-12345") == "-abcd-12345");
  CHECK(FormationOfDyno("") == "");
}

TEST_CASE("IsValidDynoName") {
  CHECK(IsValidDynoName("web.1"));
  CHECK(IsValidDynoName("web-1234abcde-123ab"));
  CHECK(IsValidDynoName("Worker_2.10"));
  CHECK_FALSE(IsValidDynoName(""));
  CHECK_FALSE(IsValidDynoName("web 1"));
  CHECK_FALSE(IsValidDynoName("web\"1"));
  CHECK_FALSE(IsValidDynoName(std::string("web\0", 4)));
  CHECK(IsValidDynoName(std::string(kMaxDynoNameBytes, 'a')));
  CHECK_FALSE(IsValidDynoName(std::string(kMaxDynoNameBytes + 1, 'a')));
}
