// libFuzzer target for the drain request path (tools/fuzz.sh): DrainReceiver::Handle with fuzzed
// headers, body and policy name. Without the right password every request gets the same 401 (no
// policy name leaks); with it, the answer is one of the documented statuses and the window only
// takes what the body held.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/time.h"
#include "providers/sources/drain.h"
#include "providers/sources/http_fields.h"

namespace {

using namespace dynoherd;
using namespace dynoherd::providers::sources;

constexpr const char* kSecret = "fuzz-drain-secret";

void Require(bool condition) {
  if (!condition) std::abort();
}

using Headers = std::vector<std::pair<std::string, std::string>>;

// "Name: value" lines up to an empty line; the rest is the body.
std::pair<Headers, std::string_view> Split(std::string_view input) {
  Headers headers;
  while (!input.empty()) {
    const size_t eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    headers.emplace_back(std::string(line.substr(0, colon)),
                         colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1)));
  }
  return {std::move(headers), input};
}

struct World {
  ManualClock clock{TimePoint{} + std::chrono::hours(24 * 365 * 57)};
  NullLogger log;
  std::shared_ptr<DrainRegistry> registry = std::make_shared<DrainRegistry>(64);
  std::shared_ptr<DrainInbox> inbox = registry->Acquire("shop", std::chrono::minutes(5)).value();
  DrainReceiver receiver{registry, {kSecret, 1u << 16}, clock, log, nullptr};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto [headers, body] = Split(rest);
  const bool authorized = flags & 1;
  if (authorized) headers.emplace_back("Authorization", BasicAuthorization("token", kSecret));
  const std::string policy = (flags & 2)   ? "shop"
                             : (flags & 4) ? "blog"
                                           : std::string(rest.substr(0, 8));

  const int64_t before = world.inbox->stats().router_lines;
  const DrainReply reply = world.receiver.Handle(policy, headers, body, "127.0.0.1");
  bool password_ok = false;
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoringCase(name, "Authorization")) {
      std::optional<std::string> password = BasicAuthPassword(value);
      password_ok = password && *password == kSecret;
      break;  // the receiver reads the first Authorization header
    }
  }
  if (!password_ok) {
    static const DrainReply kUnauthorized = reply;  // the first refusal seen: all must match
    Require(reply.status == 401 && reply.body == kUnauthorized.body);
  } else {
    Require(reply.status == 204 || reply.status == 400 || reply.status == 404 ||
            reply.status == 413 || reply.status == 415);
    if (policy != "shop") Require(reply.status == 404);
  }
  const int64_t taken = world.inbox->stats().router_lines - before;
  Require(taken >= 0 && taken <= static_cast<int64_t>(body.size()));
  if (reply.status != 204) Require(taken == 0);
  return 0;
}
