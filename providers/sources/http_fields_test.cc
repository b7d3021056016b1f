#include "providers/sources/http_fields.h"

#include <doctest/doctest.h>

using namespace dynoherd::providers::sources;

TEST_CASE("basic auth: encoded as RFC 7617 says, and decoded back to the password") {
  // The example of RFC 7617 section 2.
  CHECK(BasicAuthorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(BasicAuthPassword("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == "open sesame");
  CHECK(BasicAuthPassword("basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ") == "open sesame");
  // Every padding length, and colons inside the password.
  for (const char* password : {"", "a", "ab", "abc", "p:a:ss", "s3cr3t/+=="}) {
    CHECK(BasicAuthPassword(BasicAuthorization("user", password)) == password);
  }
  CHECK(BasicAuthPassword(BasicAuthorization("", "only-password")) == "only-password");
}

TEST_CASE("basic auth: anything else is no password") {
  CHECK_FALSE(BasicAuthPassword(""));
  CHECK_FALSE(BasicAuthPassword("Basic"));
  CHECK_FALSE(BasicAuthPassword("Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
  CHECK_FALSE(BasicAuthPassword("Basic !!!notbase64"));
  CHECK_FALSE(BasicAuthPassword("Basic dXNlcg=="));  // "user": no colon
  CHECK_FALSE(BasicAuthPassword("Basic Q"));         // one character cannot be base64
}

TEST_CASE("secrets compare equal only when equal, whatever the lengths") {
  CHECK(ConstantTimeEquals("s3cret", "s3cret"));
  CHECK_FALSE(ConstantTimeEquals("s3cret", "s3cres"));
  CHECK_FALSE(ConstantTimeEquals("s3cret", "S3cret"));
  CHECK_FALSE(ConstantTimeEquals("s3cret", "s3cre"));
  CHECK_FALSE(ConstantTimeEquals("s3cret", "s3crets3cret"));  // a repeat of the secret
  CHECK_FALSE(ConstantTimeEquals("s3cret", ""));
  CHECK_FALSE(ConstantTimeEquals("", ""));  // no secret matches nothing
  CHECK_FALSE(ConstantTimeEquals("", "x"));
}

TEST_CASE("headers are found whatever their case") {
  std::vector<std::pair<std::string, std::string>> headers = {{"content-type", "a"},
                                                              {"Logplex-Frame-Id", "b"}};
  CHECK(FindHeader(headers, "Content-Type") == "a");
  CHECK(FindHeader(headers, "LOGPLEX-FRAME-ID") == "b");
  CHECK_FALSE(FindHeader(headers, "Authorization"));
}
