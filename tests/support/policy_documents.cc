#include "tests/support/policy_documents.h"

namespace dynoherd::testing {

using nlohmann::json;

json HerokuPolicyDocument() {
  return {{"apiVersion", "dynoherd/v1"},
          {"kind", "FormationPolicy"},
          {"metadata", {{"name", "shop"}}},
          {"spec",
           {{"app", "shop"},
            {"formations",
             {{{"type", "web"},
               {"latency", json::object()},
               {"laggards", json::object()},
               {"autoscale", {{"latencyThreshold", "2s"}}}}}}}}};
}

json SimPolicyDocument() {
  json p = HerokuPolicyDocument();
  p["spec"]["provider"] = "sim";
  p["spec"]["formations"][0]["latency"] = {{"source", "sim"}};
  p["spec"]["sim"] = {
      {"formations", {{"web", {{"quantity", 3}, {"serviceTime", "100ms"}, {"rps", 10}}}}},
      {"incidents",
       {{{"at", "1m"}, {"kind", "noisy-neighbor"}, {"dyno", "web.1"}, {"factor", 2}},
        {{"at", "2m"}, {"kind", "surge"}, {"formation", "web"}, {"factor", 2}}}}};
  return p;
}

}  // namespace dynoherd::testing
