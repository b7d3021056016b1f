// A Lua script run on the server: EVALSHA first (only the digest travels), EVAL when the server
// does not know it yet (NOSCRIPT: a restart or SCRIPT FLUSH emptied its cache). A script runs
// atomically, which is what the compare-and-set writes of the store and the leases need.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "providers/redis/redis_connection.h"

namespace dynoherd::providers::redis {

class RedisScript {
 public:
  // `name` names the script in errors ("status write"); `source` is its Lua text.
  RedisScript(std::string name, std::string source);

  // Runs the script with `keys` and `args` and returns its reply. An error reply is a Status
  // naming the script, never its arguments.
  Result<RedisReply> Run(RedisConnection& connection, const std::vector<std::string>& keys,
                         const std::vector<std::string>& args) const;

  const std::string& sha1() const { return sha1_; }

 private:
  RedisCommand CommandOf(const std::string& verb, const std::string& script,
                         const std::vector<std::string>& keys,
                         const std::vector<std::string>& args) const;

  std::string name_;
  std::string source_;
  std::string sha1_;  // lowercase hex, as SCRIPT LOAD answers it
};

}  // namespace dynoherd::providers::redis
