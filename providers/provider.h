// The seam between the operator and a platform that runs formations: Heroku, or the simulator.
// Implementations are the only code that acts on the world.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "model/observation.h"

namespace dynoherd::providers {

struct ScaleRequest {
  std::string type;
  int quantity = 0;  // absolute, so a retried request cannot over-scale
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual Result<model::AppState> Observe(const std::string& app) = 0;
  virtual Status Scale(const std::string& app, const std::vector<ScaleRequest>& updates) = 0;
  // Restart and Stop are never retried once the request may have reached the platform.
  // A write that was sent and never answered fails with Status::OutcomeUnknown (it may have
  // taken effect; the next observation tells), any other failure means it did not happen.
  virtual Status Restart(const std::string& app, const std::string& dyno) = 0;
  virtual Status Stop(const std::string& app, const std::string& dyno) = 0;
};

}  // namespace dynoherd::providers
