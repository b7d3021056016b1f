#include "providers/heroku/heroku_json.h"

#include <nlohmann/json.hpp>
#include <optional>

namespace dynoherd::providers::heroku {
namespace {

using nlohmann::json;

Result<json> Parse(std::string_view body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    return Status::Unavailable("malformed JSON from Heroku (at byte " + std::to_string(e.byte) +
                               " of " + std::to_string(body.size()) + ")");
  } catch (const json::exception& e) {
    // Not a syntax error but as fatal: a number beyond a double (found by the fuzzer). Its
    // what() quotes the input, so only the error's id is told.
    return Status::Unavailable("malformed JSON from Heroku (nlohmann::json error " +
                               std::to_string(e.id) + " in " + std::to_string(body.size()) +
                               " bytes)");
  }
}

Status FieldError(size_t index, std::string_view field, std::string_view problem) {
  return Status::Unavailable("unexpected answer from Heroku: item " + std::to_string(index) +
                             ": \"" + std::string(field) + "\" " + std::string(problem));
}

Result<std::string> RequiredString(const json& item, size_t index, const char* field) {
  auto it = item.find(field);
  if (it == item.end() || !it->is_string())
    return FieldError(index, field, "is missing or not a string");
  return it->get<std::string>();
}

std::string OptionalString(const json& item, const char* field) {
  auto it = item.find(field);
  return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// updated_at is informational for formations and used for dyno uptime; absent or odd: unknown.
Result<TimePoint> OptionalTime(const json& item, size_t index, const char* field) {
  auto it = item.find(field);
  if (it == item.end() || it->is_null()) return TimePoint{};
  if (!it->is_string()) return FieldError(index, field, "is not a timestamp");
  std::optional<TimePoint> t = ParseTimestamp(it->get<std::string>());
  if (!t) return FieldError(index, field, "is not an RFC 3339 timestamp");
  return *t;
}

Result<json> ParseArray(std::string_view body) {
  Result<json> doc = Parse(body);
  if (!doc.ok()) return doc;
  if (!doc->is_array())
    return Status::Unavailable("unexpected answer from Heroku: expected a JSON array");
  for (size_t i = 0; i < doc->size(); ++i) {
    if (!(*doc)[i].is_object()) return FieldError(i, "", "is not an object");
  }
  return doc;
}

}  // namespace

Result<std::vector<model::FormationState>> ParseFormationPage(std::string_view body) {
  Result<json> doc = ParseArray(body);
  if (!doc.ok()) return doc.status();
  std::vector<model::FormationState> out;
  for (size_t i = 0; i < doc->size(); ++i) {
    const json& item = (*doc)[i];
    model::FormationState f;
    Result<std::string> type = RequiredString(item, i, "type");
    if (!type.ok()) return type.status();
    f.type = *type;
    auto quantity = item.find("quantity");
    if (quantity == item.end() || !quantity->is_number_integer() || quantity->get<int64_t>() < 0 ||
        quantity->get<int64_t>() > 100000) {
      return FieldError(i, "quantity", "is missing or not a count");
    }
    f.quantity = quantity->get<int>();
    if (auto size = item.find("dyno_size"); size != item.end() && size->is_object()) {
      f.size = OptionalString(*size, "name");
    }
    if (f.size.empty()) f.size = OptionalString(item, "size");
    Result<TimePoint> updated = OptionalTime(item, i, "updated_at");
    if (!updated.ok()) return updated.status();
    f.updated_at = *updated;
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<model::DynoState>> ParseDynoPage(std::string_view body) {
  Result<json> doc = ParseArray(body);
  if (!doc.ok()) return doc.status();
  std::vector<model::DynoState> out;
  for (size_t i = 0; i < doc->size(); ++i) {
    const json& item = (*doc)[i];
    model::DynoState d;
    Result<std::string> name = RequiredString(item, i, "name");
    if (!name.ok()) return name.status();
    d.name = *name;
    d.type = OptionalString(item, "type");
    if (d.type.empty()) d.type = FormationOfDynoName(d.name);
    Result<std::string> state = RequiredString(item, i, "state");
    if (!state.ok()) return state.status();
    d.state = *state;
    Result<TimePoint> updated = OptionalTime(item, i, "updated_at");
    if (!updated.ok()) return updated.status();
    d.updated_at = *updated;
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::string> ParseLogplexUrl(std::string_view body) {
  Result<json> doc = Parse(body);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object())
    return Status::Unavailable("unexpected answer from Heroku: expected an object");
  std::string url = OptionalString(*doc, "logplex_url");
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return Status::Unavailable("unexpected answer from Heroku: no http(s) \"logplex_url\"");
  }
  return url;
}

Result<int> ParseRateLimitRemaining(std::string_view body) {
  Result<json> doc = Parse(body);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object() || !(*doc)["remaining"].is_number_integer()) {
    return Status::Unavailable("unexpected answer from Heroku: no integer \"remaining\"");
  }
  return (*doc)["remaining"].get<int>();
}

HerokuErrorBody ParseErrorBody(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  return {OptionalString(doc, "id"), OptionalString(doc, "message")};
}

std::string FormationBatchBody(const std::vector<ScaleRequest>& updates) {
  json list = json::array();
  for (const ScaleRequest& u : updates)
    list.push_back({{"type", u.type}, {"quantity", u.quantity}});
  return json{{"updates", list}}.dump();
}

std::string LogSessionBody(std::string_view dyno_name, std::string_view source, int lines,
                           bool tail) {
  return json{{"dyno_name", dyno_name}, {"lines", lines}, {"source", source}, {"tail", tail}}
      .dump();
}

std::string FormationOfDynoName(std::string_view name) {
  if (size_t dot = name.find('.'); dot != std::string_view::npos)
    return std::string(name.substr(0, dot));
  // Fir: <type>-<release hash>-<suffix>; a type may itself contain dashes.
  size_t last = name.rfind('-');
  if (last != std::string_view::npos && last > 0) {
    size_t second = name.rfind('-', last - 1);
    if (second != std::string_view::npos && second > 0) return std::string(name.substr(0, second));
  }
  return std::string(name);
}

}  // namespace dynoherd::providers::heroku
