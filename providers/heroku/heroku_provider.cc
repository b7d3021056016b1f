#include "providers/heroku/heroku_provider.h"

namespace dynoherd::providers::heroku {

Result<model::AppState> HerokuProvider::Observe(const std::string& app) {
  Result<std::vector<model::FormationState>> formations = client_.ListFormations(app);
  if (!formations.ok()) return formations.status();
  Result<std::vector<model::DynoState>> dynos = client_.ListDynos(app);
  if (!dynos.ok()) return dynos.status();
  return model::AppState{*std::move(formations), *std::move(dynos)};
}

Status HerokuProvider::Scale(const std::string& app, const std::vector<ScaleRequest>& updates) {
  return client_.UpdateFormations(app, updates);
}

Status HerokuProvider::Restart(const std::string& app, const std::string& dyno) {
  return client_.RestartDyno(app, dyno);
}

Status HerokuProvider::Stop(const std::string& app, const std::string& dyno) {
  return client_.StopDyno(app, dyno);
}

}  // namespace dynoherd::providers::heroku
