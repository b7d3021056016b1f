// providers::Provider over the Heroku Platform API. Observing an app costs two calls (formation
// list, dyno list; more only for apps with over 1000 dynos); acting costs one call per action.
#pragma once

#include <string>
#include <vector>

#include "providers/heroku/heroku_client.h"
#include "providers/provider.h"

namespace dynoherd::providers::heroku {

class HerokuProvider final : public Provider {
 public:
  // `client` is shared by every provider of the same account and must outlive this one.
  explicit HerokuProvider(HerokuClient& client) : client_(client) {}

  Result<model::AppState> Observe(const std::string& app) override;
  Status Scale(const std::string& app, const std::vector<ScaleRequest>& updates) override;
  Status Restart(const std::string& app, const std::string& dyno) override;
  Status Stop(const std::string& app, const std::string& dyno) override;

  HerokuClient& client() { return client_; }

 private:
  HerokuClient& client_;
};

}  // namespace dynoherd::providers::heroku
