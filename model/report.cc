#include "model/report.h"

#include <algorithm>

namespace dynoherd::model {

int FormationReport::DynosUp() const {
  return static_cast<int>(
      std::count_if(dynos.begin(), dynos.end(), [](const DynoReport& d) { return d.state == "up"; }));
}

}  // namespace dynoherd::model
