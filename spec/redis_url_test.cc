#include "spec/redis_url.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::spec;

TEST_CASE("Redis URLs in the forms clients and Heroku write them") {
  struct Row {
    const char* url;
    bool tls;
    const char* host;
    int port;
    const char* username;
    const char* password;
    int database;
    const char* host_port;
  };
  const Row rows[] = {
      {"redis://localhost", false, "localhost", 6379, "", "", 0, "localhost:6379"},
      {"redis://localhost/", false, "localhost", 6379, "", "", 0, "localhost:6379"},
      {"rediss://:p4ss@ec2-3-1-2-3.compute-1.amazonaws.com:25580", true,
       "ec2-3-1-2-3.compute-1.amazonaws.com", 25580, "", "p4ss", 0,
       "ec2-3-1-2-3.compute-1.amazonaws.com:25580"},
      {"redis://alice:s3cret@10.0.0.5:6380/2", false, "10.0.0.5", 6380, "alice", "s3cret", 2,
       "10.0.0.5:6380"},
      {"redis://[::1]:7000/1", false, "::1", 7000, "", "", 1, "[::1]:7000"},
      {"rediss://[2001:db8::7]", true, "2001:db8::7", 6379, "", "", 0, "[2001:db8::7]:6379"},
      {"redis://us%65r:pa%3As%2Fs%40@h", false, "h", 6379, "user", "pa:s/s@", 0, "h:6379"},
      // Pasted without encoding: the credentials end at the last '@'.
      {"redis://:pa@ss/x@h:1", false, "h", 1, "", "pa@ss/x", 0, "h:1"},
      {"redis://:@h", false, "h", 6379, "", "", 0, "h:6379"},
      {"redis://my_host.internal:65535/15", false, "my_host.internal", 65535, "", "", 15,
       "my_host.internal:65535"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.url);
    Result<RedisEndpoint> e = ParseRedisUrl(row.url);
    REQUIRE_MESSAGE(e.ok(), e.status().message());
    CHECK(e->tls == row.tls);
    CHECK(e->host == row.host);
    CHECK(e->port == row.port);
    CHECK(e->username == row.username);
    CHECK(e->password == row.password);
    CHECK(e->database == row.database);
    CHECK(e->HostPort() == row.host_port);
  }
}

TEST_CASE("bad Redis URLs say which part is wrong and never show the password") {
  struct Row {
    const char* url;
    const char* says;
  };
  const Row rows[] = {
      {"http://:hunter2@h", "must start with redis:// or rediss://"},
      {"hunter2", "must start with redis://"},
      {"redis://:hunter2@", "no host"},
      {"redis://:hunter2@:6379", "no host"},
      {"redis://:hunter2@h:0", "port \"0\" must be a number from 1 to 65535"},
      {"redis://:hunter2@h:99999", "port \"99999\" must be a number from 1 to 65535"},
      {"redis://:hunter2@h:", "port \"\" must be a number"},
      {"redis://:hunter2@h:63x9", "port \"63x9\""},
      {"redis://:hunter2@h/db1", "the path \"/db1\" must be a database number"},
      {"redis://:hunter2@h/-1", "must be a database number"},
      {"redis://:hunter2@h?ssl_cert_reqs=none", "query strings and fragments (\"?...\")"},
      {"redis://:hunter2@h/0#x", "(\"#...\") are not supported"},
      {"redis://::1:6379", "an IPv6 address needs brackets"},
      {"redis://:hunter2@[::1:6379", "lacks its closing ']'"},
      {"redis://:hunter2@[::zz]:1", "\"::zz\" is not an IPv6 address"},
      {"redis://:hunter2@[::1]x", "expected ':port' after the IPv6 address"},
      {"redis://:hunter2@bad host", "the host \"bad host\" is not a host name"},
      {"redis://hunter2@h", "a user name needs a password"},
      {"redis://alice:@h", "the user \"alice\" has an empty password"},
      {"redis://:hunter2%G1@h", "the password has an invalid percent-escape"},
      {"redis://:hunter2%4@h", "the password has an invalid percent-escape"},
      {"redis://al%ice:hunter2@h", "the user name has an invalid percent-escape"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.url);
    Result<RedisEndpoint> e = ParseRedisUrl(row.url);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Status::Code::kInvalidArgument);
    const std::string& message = e.status().message();
    CAPTURE(message);
    CHECK(message.find(row.says) != std::string::npos);
    CHECK(message.find("hunter") == std::string::npos);
    CHECK(message.rfind("Redis URL", 0) == 0);
  }
  // The masked URL still shows the rest, so the user can find the typo.
  CHECK(ParseRedisUrl("redis://alice:hunter2@h:0").status().message() ==
        "Redis URL \"redis://alice:***@h:0\": port \"0\" must be a number from 1 to 65535");
}

TEST_CASE("Redacted() keeps everything but the password") {
  CHECK(ParseRedisUrl("rediss://:p4ss@h:25580")->Redacted() == "rediss://:***@h:25580");
  CHECK(ParseRedisUrl("redis://alice:s3cret@h/2")->Redacted() == "redis://alice:***@h:6379/2");
  CHECK(ParseRedisUrl("redis://[::1]")->Redacted() == "redis://[::1]:6379");
}
