#include "model/observation.h"

#include <doctest/doctest.h>

using namespace dynoherd::model;

TEST_CASE("DynoNameLess: dyno numbers compare as numbers, the rest as text") {
  CHECK(DynoNameLess("web.2", "web.10"));
  CHECK_FALSE(DynoNameLess("web.10", "web.2"));
  CHECK(DynoNameLess("web.9", "worker.1"));
  CHECK(DynoNameLess("web.1", "web.1.1"));   // a prefix first
  CHECK(DynoNameLess("web.007", "web.10"));  // leading zeros do not make a number larger
  CHECK_FALSE(DynoNameLess("web.3", "web.3"));
  CHECK(DynoNameLess("run.99", "run.100"));
}

TEST_CASE("SortDynos: the order every output shows") {
  std::vector<DynoState> dynos = {
      {"web.10", "web", "up", {}}, {"worker.1", "worker", "up", {}}, {"web.2", "web", "up", {}},
      {"web.1", "web", "up", {}}};
  SortDynos(dynos);
  std::vector<std::string> names;
  for (const auto& d : dynos)
    names.push_back(d.name);
  CHECK(names == std::vector<std::string>{"web.1", "web.2", "web.10", "worker.1"});
}
