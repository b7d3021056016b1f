// Pieces of HTTP that the drain receiver and the Prometheus source need: header lookup without
// regard to case, basic auth in both directions, and a comparison of secrets in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynoherd::providers::sources {

bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// The first value of header `name` (any case); nullopt when absent.
std::optional<std::string_view> FindHeader(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name);

// True when `secret` equals `given`. The time taken depends only on given's length (which the
// sender knows anyway), never on where they differ or on the secret's length. An empty secret
// equals nothing.
bool ConstantTimeEquals(std::string_view secret, std::string_view given);

// The password of an "Authorization: Basic base64(user:password)" value; nullopt when it is
// not one.
std::optional<std::string> BasicAuthPassword(std::string_view authorization);

// "Basic base64(user:password)", the value of an Authorization header.
std::string BasicAuthorization(std::string_view user, std::string_view password);

}  // namespace dynoherd::providers::sources
