#include "common/status.h"

#include <doctest/doctest.h>

using namespace dynoherd;

TEST_CASE("Status carries a code, a message and optional API details") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "OK");
  Status s = Status::Unavailable("connect to api.heroku.com: timed out after 5s");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kUnavailable);
  Status wrapped = s.WithContext("observe shop").WithApiError({503, "unavailable", "req-1"});
  CHECK(wrapped.message() == "observe shop: connect to api.heroku.com: timed out after 5s");
  REQUIRE(wrapped.api_error());
  CHECK(wrapped.api_error()->http_status == 503);
  CHECK(Status::CodeName(wrapped.code()) == "unavailable");
}

TEST_CASE("Result holds a value or a status") {
  Result<int> good = 5;
  CHECK(good.ok());
  CHECK(*good == 5);
  Result<int> bad = Status::NotFound("no such app");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message() == "no such app");
}
