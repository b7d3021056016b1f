#include "app/run_environment.h"

namespace dynoherd::app {

WallRunEnvironment::WallRunEnvironment(
    const Clock& wall, Logger& logger,
    std::function<Status(const std::vector<spec::Policy>&)> check_reload) {
  clock = &wall;
  sleeper = &system_sleeper_;
  this->logger = &logger;
  this->check_reload = std::move(check_reload);
}

}  // namespace dynoherd::app
