#include "spec/loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "spec/fields.h"
#include "spec/redis_url.h"
#include "spec/suggest.h"

namespace dynoherd::spec {
namespace {

namespace fs = std::filesystem;

// Policy files are small; anything larger is almost certainly the wrong file (or /dev/zero).
constexpr size_t kMaxInputBytes = 4 << 20;

// Appended, not `"\"" + std::string(text)`: GCC 12 at -O3 reports a false -Wrestrict on a
// one-character literal plus a temporary string wherever it inlines that.
std::string Quote(std::string_view text) {
  std::string quoted = "\"";
  quoted.append(text);
  quoted += '"';
  return quoted;
}

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The longest string any field takes without a max_length of its own: patterns are matched with
// std::regex, whose recursion per character overflows the stack on strings of about 50 KB.
constexpr size_t kLongestString = 10000;

// The patterns of spec/fields.cc, compiled once per process (compiling is slower than loading a
// policy). A std::map keeps the references valid; matching a const regex needs no lock.
const std::regex& CompiledPattern(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::regex> compiled;
  std::lock_guard lock(mu);
  auto it = compiled.find(pattern);
  if (it == compiled.end()) it = compiled.emplace(pattern, std::regex(pattern)).first;
  return it->second;
}

// What a plain or quoted scalar means under the YAML 1.2 core schema, which is also what editors
// validating against the JSON Schema assume ("yes" is a string, not a boolean).
enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

bool IsCoreBool(const std::string& s) {
  static const std::set<std::string> kBools = {"true", "True", "TRUE", "false", "False", "FALSE"};
  return kBools.count(s) > 0;
}

// The core schema's number forms, scanned by hand: std::regex recurses once per character and
// overflows the stack on a long plain scalar (a 300 KB `quantity: 111...` crashed `validate`).
bool IsDigits(std::string_view s, size_t from, bool (*digit)(char)) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i) {
    if (!digit(s[i])) return false;
  }
  return true;
}

bool IsDecimal(char c) {
  return c >= '0' && c <= '9';
}

// [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
bool IsCoreInt(std::string_view s) {
  if (s.rfind("0o", 0) == 0) return IsDigits(s, 2, [](char c) { return c >= '0' && c <= '7'; });
  if (s.rfind("0x", 0) == 0) {
    return IsDigits(s, 2, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  }
  return IsDigits(s, !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0, IsDecimal);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
bool IsCoreFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  const size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  const std::string_view body = s.substr(sign);
  if (body == ".inf" || body == ".Inf" || body == ".INF") return true;
  size_t i = 0;
  size_t digits = 0;
  while (i < body.size() && IsDecimal(body[i]))
    ++i, ++digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    size_t fraction = 0;
    while (i < body.size() && IsDecimal(body[i]))
      ++i, ++fraction;
    if (digits == 0 && fraction == 0) return false;
  } else if (digits == 0) {
    return false;
  }
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    return IsDigits(body, i, IsDecimal);
  }
  return i == body.size();
}

// [-+]?[0-9.]+%: something written as a percentage, right or wrong.
bool LooksLikePercent(std::string_view s) {
  if (s.size() < 2 || s.back() != '%') return false;
  s.remove_suffix(1);
  if (s[0] == '-' || s[0] == '+') s.remove_prefix(1);
  return IsDigits(s, 0, [](char c) { return IsDecimal(c) || c == '.'; });
}

// nullopt: a tag we do not support.
std::optional<ScalarType> Resolve(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  const std::string& tag = node.Tag();
  const std::string& s = node.Scalar();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return ScalarType::kString;
  if (tag == "tag:yaml.org,2002:int") return ScalarType::kInt;
  if (tag == "tag:yaml.org,2002:float") return ScalarType::kFloat;
  if (tag == "tag:yaml.org,2002:bool") return ScalarType::kBool;
  if (tag != "?" && !tag.empty()) return std::nullopt;
  if (IsCoreBool(s)) return ScalarType::kBool;
  if (IsCoreInt(s)) return ScalarType::kInt;
  if (IsCoreFloat(s)) return ScalarType::kFloat;
  return ScalarType::kString;
}

// "a mapping", "the number 5", "the string \"x\"": what was found instead of what was expected.
std::string Describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  std::optional<ScalarType> type = Resolve(node);
  if (!type) return "a value tagged " + node.Tag();
  switch (*type) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "the boolean " + node.Scalar();
    case ScalarType::kInt:
    case ScalarType::kFloat:
      return "the number " + node.Scalar();
    case ScalarType::kString:
      return "the string " + Quote(node.Scalar());
  }
  return "?";
}

std::optional<int64_t> ParseInteger(const std::string& text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    s.remove_prefix(2);
  }
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (magnitude > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  int64_t value = static_cast<int64_t>(magnitude);
  return negative ? -value : value;
}

// A finite float from a core-schema float or integer; nullopt for .inf, .nan and overflow.
std::optional<double> ParseFloat(const std::string& text) {
  if (std::optional<int64_t> integer = ParseInteger(text)) return static_cast<double>(*integer);
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// The message for a number outside the field's range, or "" when it is inside.
std::string CheckRange(const Field& field, double value, const std::string& text) {
  if (field.minimum) {
    if (field.exclusive_minimum && value <= *field.minimum) {
      return "must be > " + FormatNumber(*field.minimum) + " (got " + text + ")";
    }
    if (!field.exclusive_minimum && value < *field.minimum) {
      return "must be >= " + FormatNumber(*field.minimum) + " (got " + text + ")";
    }
  }
  if (field.maximum && value > *field.maximum) {
    return "must be <= " + FormatNumber(*field.maximum) + " (got " + text + ")";
  }
  return "";
}

SourceLocation At(const std::string& file, const YAML::Mark& mark) {
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

// Where a field was written: its key, and its value (the key again when the value is empty).
struct Place {
  SourceLocation key;
  SourceLocation value;
};

// One document's policy, with what the set-wide checks need to know about it.
struct LoadedDocument {
  Policy policy;
  std::optional<SourceLocation> name_at;  // set when metadata.name loaded cleanly
  bool ok = false;                        // no error in this document
};

// Reads one YAML document by the field table, then applies the cross-field rules.
class DocumentLoader {
 public:
  DocumentLoader(const std::string& file, const EnvLookup& env, const LoadOptions& options,
                 std::vector<LoadError>& errors)
      : file_(file), env_(env), options_(options), errors_(errors), first_error_(errors.size()) {}

  LoadedDocument Load(const YAML::Node& root) {
    LoadedDocument doc;
    SourceLocation root_at = At(file_, root.Mark());
    places_[""] = {root_at, root_at};
    doc.policy.location = root_at;
    if (!root.IsMap()) {
      Error(root_at, "",
            "a FormationPolicy document must be a mapping (got " + Describe(root) + ")");
      return doc;
    }
    LoadObject(root, FormationPolicyType(), &doc.policy, "");
    if (Intact("apiVersion") && Intact("kind")) CheckRules(doc.policy);
    if (Present("metadata.name") && Clean("metadata.name")) {
      doc.name_at = places_["metadata.name"].value;
    }
    doc.ok = errors_.size() == first_error_;
    return doc;
  }

 private:
  void Error(const SourceLocation& at, std::string path, std::string message) {
    errors_.push_back(LoadError{at, std::move(path), std::move(message)});
  }

  bool Present(const std::string& path) const { return places_.count(path) > 0; }

  static bool IsPrefix(const std::string& prefix, const std::string& path) {
    if (prefix.empty()) return true;
    if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
    return path[prefix.size()] == '.' || path[prefix.size()] == '[';
  }

  // No error at `path` or at anything that contains it.
  bool Intact(const std::string& path) const {
    for (size_t i = first_error_; i < errors_.size(); ++i) {
      const std::string& e = errors_[i].field;
      if (e == path || IsPrefix(e, path)) return false;
    }
    return true;
  }

  // Intact, and no error inside it either: its value is exactly what was written.
  bool Clean(const std::string& path) const {
    if (!Intact(path)) return false;
    for (size_t i = first_error_; i < errors_.size(); ++i) {
      if (IsPrefix(path, errors_[i].field)) return false;
    }
    return true;
  }

  SourceLocation ValueAt(const std::string& path) const {
    auto it = places_.find(path);
    return it == places_.end() ? SourceLocation{file_} : it->second.value;
  }
  SourceLocation KeyAt(const std::string& path) const {
    auto it = places_.find(path);
    return it == places_.end() ? SourceLocation{file_} : it->second.key;
  }
  // Where to report a missing field: at the key of the mapping that lacks it.
  SourceLocation ParentAt(const std::string& parent_path) const { return KeyAt(parent_path); }

  // Calls `visit(name, value, path, place)` for each entry of `node` (a mapping), rejecting
  // non-string and duplicate keys. A duplicate also marks the first one's path as broken, so
  // rules between fields leave it alone: which of the two was meant is anyone's guess.
  template <typename Visit>
  void ForEachEntry(const YAML::Node& node, const std::string& path, Visit visit,
                    std::string (*child_path)(const std::string&, std::string_view) = Join) {
    std::map<std::string, SourceLocation> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: the iterator hands out a temporary pair (Nodes are cheap handles).
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      SourceLocation key_at = At(file_, key.Mark());
      if (!key.IsScalar()) {
        Error(key_at, path, "keys must be plain names (got " + Describe(key) + ")");
        continue;
      }
      const std::string& name = key.Scalar();
      std::string child = child_path(path, name);
      if (auto first = seen.find(name); first != seen.end()) {
        Error(key_at, child,
              "duplicate key " + Quote(name) + "; first set at line " +
                  std::to_string(first->second.line));
        continue;
      }
      seen.emplace(name, key_at);
      // An empty value belongs to its key, not to whatever token follows it.
      SourceLocation value_at = At(file_, value.Mark());
      if (value.IsNull() && value.Mark().line != key.Mark().line) value_at = key_at;
      visit(name, value, child, Place{key_at, value_at});
    }
  }

  void LoadObject(const YAML::Node& node, const ObjectType& type, StructRef target,
                  const std::string& path) {
    std::set<std::string> written;
    ForEachEntry(node, path,
                 [&](const std::string& name, const YAML::Node& value, const std::string& child,
                     const Place& place) {
                   written.insert(name);
                   const Field* field = type.Find(name);
                   if (field == nullptr) {
                     Error(place.key, child, UnknownField(name, type));
                     return;
                   }
                   places_[child] = place;
                   LoadField(value, *field, target, child);
                 });
    for (const auto& field : type.fields) {
      if (field.required && written.count(field.name) == 0) {
        Error(ParentAt(path), Join(path, field.name), "required field is missing");
      }
    }
  }

  static std::string UnknownField(const std::string& name, const ObjectType& type) {
    std::vector<std::string> names = type.FieldNames();
    if (auto guess = ClosestMatch(name, names)) {
      return "unknown field " + Quote(name) + " (did you mean " + Quote(*guess) + "?)";
    }
    return "unknown field " + Quote(name) + " (allowed here: " + JoinNames(names) + ")";
  }

  void TypeError(const std::string& path, std::string_view expected, const YAML::Node& node,
                 std::string_view hint = "") {
    Error(ValueAt(path), path,
          "must be " + std::string(expected) + " (got " + Describe(node) + std::string(hint) + ")");
  }

  void LoadField(const YAML::Node& node, const Field& field, StructRef target,
                 const std::string& path) {
    switch (field.kind) {
      case FieldKind::kObject:
        if (!node.IsMap()) {
          TypeError(path, "a mapping", node,
                    node.IsNull() ? "; write \"" + field.name + ": {}\" for every default" : "");
          return;
        }
        LoadObject(node, *field.object, field.enter(target, ""), path);
        return;
      case FieldKind::kList:
        if (!node.IsSequence()) return TypeError(path, "a list", node);
        if (!CheckCount(field, node.size(), path)) return;
        for (size_t i = 0; i < node.size(); ++i) {
          const YAML::Node item = node[i];
          std::string item_path = Index(path, i);
          SourceLocation item_at = At(file_, item.Mark());
          places_[item_path] = {item_at, item_at};
          // Always append, so element i of the struct is element i of the file.
          StructRef element = field.enter(target, "");
          if (!item.IsMap()) {
            TypeError(item_path, "a mapping", item);
            continue;
          }
          LoadObject(item, *field.object, element, item_path);
        }
        return;
      case FieldKind::kStringList:
        if (!node.IsSequence()) return TypeError(path, "a list of strings", node);
        if (!CheckCount(field, node.size(), path)) return;
        for (size_t i = 0; i < node.size(); ++i) {
          const YAML::Node item = node[i];
          const std::string item_path = Index(path, i);
          const SourceLocation item_at = At(file_, item.Mark());
          places_[item_path] = {item_at, item_at};
          if (std::optional<FieldValue> value = ReadScalar(item, field, item_path)) {
            field.store(target, *value);
          }
        }
        return;
      case FieldKind::kMap:
        if (!node.IsMap()) return TypeError(path, "a mapping", node);
        if (!CheckCount(field, node.size(), path)) return;
        ForEachEntry(node, path,
                     [&](const std::string& name, const YAML::Node& value, const std::string& child,
                         const Place& place) {
                       places_[child] = place;
                       if (!Matches(field.pattern, name)) {
                         Error(place.key, child,
                               "key must be " + field.pattern_hint + " (got " + Quote(name) + ")");
                       }
                       StructRef element = field.enter(target, name);
                       if (!value.IsMap()) {
                         TypeError(child, "a mapping", value);
                         return;
                       }
                       LoadObject(value, *field.object, element, child);
                     });
        return;
      case FieldKind::kStringMap:
        if (!node.IsMap()) return TypeError(path, "a mapping of strings", node);
        LoadStringMap(node, field, target, path);
        return;
      default:
        if (std::optional<FieldValue> value = ReadScalar(node, field, path)) {
          field.store(target, *value);
        }
        return;
    }
  }

  // metadata.labels["app.kubernetes.io/name"]: keys hold '.' and '/', so they are quoted.
  static std::string KeyPath(const std::string& path, std::string_view key) {
    return path + "[" + Quote(key) + "]";
  }

  void LoadStringMap(const YAML::Node& node, const Field& field, StructRef target,
                     const std::string& path) {
    size_t total_bytes = 0;
    ForEachEntry(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& child,
            const Place& place) {
          places_[child] = place;
          total_bytes += key.size();
          const bool too_long = key.size() > static_cast<size_t>(field.key_max_length);
          std::string problem = too_long
                                    ? "must be at most " + std::to_string(field.key_max_length) +
                                          " characters (got " + std::to_string(key.size()) + ")"
                                    : field.key_problem(key);
          if (!problem.empty()) {
            Error(place.key, child, "invalid key: " + std::move(problem));
            return;
          }
          if (std::optional<FieldValue> text = ReadScalar(value, field, child)) {
            total_bytes += std::get<std::string>(*text).size();
            field.store_entry(target, key, std::get<std::string>(std::move(*text)));
          }
        },
        KeyPath);
    if (field.max_total_bytes > 0 && total_bytes > field.max_total_bytes) {
      Error(ValueAt(path), path,
            "keys and values must total at most " + std::to_string(field.max_total_bytes) +
                " bytes (got " + std::to_string(total_bytes) + ")");
    }
  }

  bool CheckCount(const Field& field, size_t count, const std::string& path) {
    auto entries = [](int n) { return std::to_string(n) + (n == 1 ? " entry" : " entries"); };
    if (static_cast<int>(count) < field.min_items) {
      Error(ValueAt(path), path,
            "needs at least " + entries(field.min_items) + " (got " + std::to_string(count) + ")");
      return false;
    }
    if (field.max_items > 0 && static_cast<int>(count) > field.max_items) {
      Error(ValueAt(path), path,
            "allows at most " + entries(field.max_items) + " (got " + std::to_string(count) + ")");
      return false;
    }
    return true;
  }

  static bool Matches(const std::string& pattern, const std::string& text) {
    return pattern.empty() || std::regex_match(text, CompiledPattern(pattern));
  }

  // A scalar being read: where it is, what the field wants, what YAML made of it.
  struct Scalar {
    const YAML::Node& node;
    const Field& field;
    const std::string& path;
    SourceLocation at;
    std::string expected;  // "an integer", "one of a, b or c": for messages
    ScalarType type = ScalarType::kNull;
    std::string text;  // "" for null
  };

  std::optional<FieldValue> ReadScalar(const YAML::Node& node, const Field& field,
                                       const std::string& path) {
    Scalar s{node, field, path, ValueAt(path), Expected(field), ScalarType::kNull, ""};
    if (!node.IsScalar() && !node.IsNull()) return WrongType(s);
    std::optional<ScalarType> type = Resolve(node);
    if (!type) return Fail(s, "unsupported YAML tag " + Quote(node.Tag()));
    s.type = *type;
    s.text = node.IsNull() ? "" : node.Scalar();
    switch (field.kind) {
      case FieldKind::kString:
      case FieldKind::kStringList:  // one item
      case FieldKind::kStringMap:   // one value
        return ReadString(s);
      case FieldKind::kInteger:
        return ReadInteger(s);
      case FieldKind::kNumber:
        return ReadNumber(s);
      case FieldKind::kBoolean:
        if (s.type != ScalarType::kBool) return WrongType(s);
        return FieldValue(s.text[0] == 't' || s.text[0] == 'T');
      case FieldKind::kDuration:
        return ReadDuration(s);
      case FieldKind::kEnum:
        return ReadEnum(s);
      case FieldKind::kCountOrPercent:
        return ReadCountOrPercent(s);
      default:
        return Fail(s, "internal error: field kind is not a scalar");
    }
  }

  // What a value of `field` looks like, for "must be ..." messages.
  static std::string Expected(const Field& field) {
    switch (field.kind) {
      case FieldKind::kString:
      case FieldKind::kStringList:
      case FieldKind::kStringMap:
        return "a string";
      case FieldKind::kInteger:
        return "an integer";
      case FieldKind::kNumber:
        return "a number";
      case FieldKind::kBoolean:
        return "true or false";
      case FieldKind::kDuration:
        return "a duration like 90s";
      case FieldKind::kCountOrPercent:
        return "a count like 2 or a percentage like 25%";
      case FieldKind::kEnum:
        return field.enum_values.size() == 1 ? field.enum_values[0].name
                                             : "one of " + EnumList(field);
      default:
        return "a value";
    }
  }

  std::optional<FieldValue> Fail(const Scalar& s, std::string message) {
    Error(s.at, s.path, std::move(message));
    return std::nullopt;
  }

  // "must be an integer (got a string; ...)": `hint` continues inside the parentheses.
  std::optional<FieldValue> WrongType(const Scalar& s, std::string_view hint = "") {
    return Fail(s, "must be " + s.expected + " (got " + Describe(s.node) + std::string(hint) + ")");
  }

  std::optional<FieldValue> ReadString(const Scalar& s) {
    if (s.type != ScalarType::kString) {
      if (s.type == ScalarType::kNull) return WrongType(s);
      return WrongType(s, "; quote it: " + Quote(s.text));
    }
    const Field& field = s.field;
    std::string value = s.text;
    std::string from;  // where the value came from, when it is not what was written
    if (s.path == "spec.app" && options_.app) {
      value = *options_.app;
      from = "-a";
    } else if (field.expands_env) {
      Result<std::string> expanded = ExpandVariables(s.text, env_);
      if (!expanded.ok()) return Fail(s, expanded.status().message());
      value = std::move(*expanded);
      if (value != s.text) from = Quote(s.text);
    }
    std::string shown = field.secret ? "" : " (got " + Quote(value) + ")";
    if (!field.secret && !from.empty()) shown = " (got " + Quote(value) + " from " + from + ")";
    // Every string is bounded before a pattern reads it (std::regex recurses per character).
    const size_t longest = field.max_length > 0 ? static_cast<size_t>(field.max_length)
                                                : kLongestString;
    if (value.size() > longest) {
      return Fail(s, "must be at most " + std::to_string(longest) + " characters (got " +
                         std::to_string(value.size()) + ")");
    }
    if (!Matches(field.pattern, value)) return Fail(s, "must be " + field.pattern_hint + shown);
    return FieldValue(std::move(value));
  }

  std::optional<FieldValue> ReadInteger(const Scalar& s) {
    if (s.type == ScalarType::kFloat) {
      std::optional<double> v = ParseFloat(s.text);
      if (v && *v == std::floor(*v)) return WrongType(s, "; write it without a fraction");
      return WrongType(s);
    }
    if (s.type != ScalarType::kInt) return WrongType(s);
    std::optional<int64_t> value = ParseInteger(s.text);
    double approx = value ? static_cast<double>(*value) : (s.text[0] == '-' ? -1e300 : 1e300);
    if (std::string range = CheckRange(s.field, approx, s.text); !range.empty()) {
      return Fail(s, range);
    }
    if (!value) return Fail(s, "is too large (got " + s.text + ")");
    return FieldValue(*value);
  }

  std::optional<FieldValue> ReadNumber(const Scalar& s) {
    if (s.type != ScalarType::kInt && s.type != ScalarType::kFloat) return WrongType(s);
    std::optional<double> value = ParseFloat(s.text);
    if (!value) return Fail(s, "must be a finite number (got " + s.text + ")");
    if (std::string range = CheckRange(s.field, *value, s.text); !range.empty()) {
      return Fail(s, range);
    }
    return FieldValue(*value);
  }

  std::optional<FieldValue> ReadDuration(const Scalar& s) {
    if (s.type == ScalarType::kNull || s.type == ScalarType::kBool) return WrongType(s);
    Result<Duration> value = ParseDuration(s.text);
    if (!value.ok()) return Fail(s, value.status().message());
    const Field& field = s.field;
    if (field.min_duration && *value < *field.min_duration) {
      return Fail(s, "must be >= " + FormatDuration(*field.min_duration) + " (got " + s.text + ")");
    }
    if (field.max_duration && *value > *field.max_duration) {
      return Fail(s, "must be <= " + FormatDuration(*field.max_duration) + " (got " + s.text + ")");
    }
    return FieldValue(*value);
  }

  std::optional<FieldValue> ReadEnum(const Scalar& s) {
    for (const auto& e : s.field.enum_values) {
      if (e.name == s.text && s.type != ScalarType::kNull) return FieldValue(e.value);
    }
    std::vector<std::string> names;
    for (const auto& e : s.field.enum_values)
      names.push_back(e.name);
    std::string hint;
    auto guess = names.size() > 1 ? ClosestMatch(s.text, names) : std::nullopt;
    if (guess && s.type == ScalarType::kString) hint = "; did you mean " + Quote(*guess) + "?";
    return WrongType(s, hint);
  }

  std::optional<FieldValue> ReadCountOrPercent(const Scalar& s) {
    if (s.type == ScalarType::kInt) {
      std::optional<int64_t> value = ParseInteger(s.text);
      double approx = value ? static_cast<double>(*value) : 1e300;
      if (std::string range = CheckRange(s.field, approx, s.text); !range.empty()) {
        return Fail(s, range);
      }
      return FieldValue(CountOrPercent{false, static_cast<int>(*value)});
    }
    if (s.type != ScalarType::kString || !LooksLikePercent(s.text)) {
      return WrongType(s);
    }
    if (!Matches(std::string(PercentPattern()), s.text)) {
      return Fail(s,
                  "a percentage must be a whole number between 1% and 100% (got " + s.text + ")");
    }
    return FieldValue(CountOrPercent{true, std::stoi(s.text)});
  }

  static std::string EnumList(const Field& field) {
    std::vector<std::string> names;
    for (const auto& e : field.enum_values)
      names.push_back(e.name);
    return JoinNames(names);
  }

  // --- Rules that involve several fields. Each runs only on fields that loaded cleanly, so one
  // mistake is reported once, not again as a broken rule.

  void CheckRules(Policy& policy) {
    const bool provider_ok = Clean("spec.provider");
    const bool sim_provider = policy.provider == ProviderKind::kSim;
    if (provider_ok && Intact("spec.sim")) {
      if (sim_provider && !policy.sim) {
        Error(ParentAt("spec"), "spec.sim", "required with provider: sim");
      } else if (!sim_provider && policy.sim) {
        Error(KeyAt("spec.sim"), "spec.sim",
              "allowed only with provider: sim (provider is heroku)");
      }
    }

    std::map<std::string, SourceLocation> types;
    for (size_t i = 0; i < policy.formations.size(); ++i) {
      FormationSpec& formation = policy.formations[i];
      const std::string path = Index("spec.formations", i);
      formation.location = ValueAt(path);
      if (!Intact(path)) continue;
      const std::string type_path = path + ".type";
      if (Clean(type_path)) {
        auto [first, inserted] = types.emplace(formation.type, ValueAt(type_path));
        if (!inserted) {
          Error(ValueAt(type_path), type_path,
                "duplicate formation type " + Quote(formation.type) + "; first declared at line " +
                    std::to_string(first->second.line));
        }
        if (sim_provider && provider_ok && policy.sim && Intact("spec.sim.formations") &&
            !FindSimFormation(*policy.sim, formation.type)) {
          Error(ValueAt(type_path), type_path,
                "no simulated formation " + Quote(formation.type) + " in spec.sim.formations");
        }
      }
      const bool wants_latency = (formation.laggards && Intact(path + ".laggards")) ||
                                 (formation.autoscale && Intact(path + ".autoscale"));
      if (wants_latency && !formation.latency && Intact(path + ".latency")) {
        Error(ParentAt(path), path + ".latency", "required when laggards or autoscale is set");
      }
      if (formation.latency && provider_ok) {
        CheckLatency(*formation.latency, path + ".latency", policy.provider);
        if (formation.latency->source == LatencySourceKind::kSidekiq) {
          CheckSidekiqFormation(path);
          if (sim_provider) CheckSimulatedSidekiq(policy, formation, path);
        }
      }
      if (formation.autoscale) CheckAutoscale(*formation.autoscale, path + ".autoscale");
      CheckBounds(formation, path);
      for (size_t k = 0; k < formation.schedules.size(); ++k) {
        CheckSchedule(formation, formation.schedules[k], Index(path + ".schedules", k));
      }
    }
    if (policy.sim) CheckSim(*policy.sim, "spec.sim");
  }

  void CheckLatency(LatencySpec& latency, const std::string& path, ProviderKind provider) {
    const std::string source_path = path + ".source";
    if (!Clean(source_path)) return;
    const std::string source(Name(latency.source));
    // The simulator plays Sidekiq's Redis too: a sidekiq worker formation can be simulated.
    if (provider == ProviderKind::kSim && latency.source != LatencySourceKind::kSim &&
        latency.source != LatencySourceKind::kSidekiq) {
      if (Present(source_path)) {
        Error(ValueAt(source_path), source_path,
              "must be sim or sidekiq with provider: sim (got " + source + ")");
      } else {
        Error(ParentAt(path), source_path,
              "must be sim or sidekiq with provider: sim (the default is " + source + ")");
      }
    }
    if (provider != ProviderKind::kSim && latency.source == LatencySourceKind::kSim) {
      Error(ValueAt(source_path), source_path, "sim needs provider: sim (provider is heroku)");
    }
    const bool prometheus = latency.source == LatencySourceKind::kPrometheus;
    const bool sidekiq = latency.source == LatencySourceKind::kSidekiq;
    OnlyWith(path, {"query", "dynoLabel"}, prometheus, "prometheus", source);
    OnlyWith(path, {"url"}, prometheus || sidekiq, "prometheus or sidekiq", source);
    OnlyWith(path, {"queues", "namespace", "tlsVerify", "tlsCaFile"}, sidekiq, "sidekiq", source);
    OnlyWith(path, {"via"}, latency.source == LatencySourceKind::kRouterLogs, "router-logs",
             source);
    if (prometheus) {
      for (const char* name : {"url", "query"}) {
        if (!Present(Join(path, name))) {
          Error(ParentAt(path), Join(path, name), "required with source: prometheus");
        }
      }
      CheckUrlScheme(latency.url, path + ".url", {"http://", "https://"},
                     "an http:// or https:// URL with source: prometheus");
    }
    if (sidekiq) CheckSidekiqLatency(latency, path, provider);
  }

  // Each of `names` under `path` is an error unless `allowed` (the source is one of `sources`).
  void OnlyWith(const std::string& path, std::initializer_list<const char*> names, bool allowed,
                const std::string& sources, const std::string& source) {
    if (allowed) return;
    for (const char* name : names) {
      const std::string field_path = Join(path, name);
      if (Present(field_path)) {
        Error(KeyAt(field_path), field_path,
              "allowed only with source: " + sources + " (source is " + source + ")");
      }
    }
  }

  void CheckUrlScheme(const std::string& url, const std::string& url_path,
                      std::initializer_list<std::string_view> schemes, const std::string& what) {
    if (!Present(url_path) || !Clean(url_path)) return;
    for (std::string_view scheme : schemes) {
      if (url.compare(0, scheme.size(), scheme) == 0) return;
    }
    Error(ValueAt(url_path), url_path, "must be " + what);
  }

  void CheckSidekiqLatency(LatencySpec& latency, const std::string& path, ProviderKind provider) {
    const std::string url_path = path + ".url";
    if (!Present(url_path) && provider != ProviderKind::kSim) {
      Error(ParentAt(path), url_path, "required with source: sidekiq (Sidekiq's Redis)");
    }
    CheckUrlScheme(latency.url, url_path, {"redis://", "rediss://"},
                   "a redis:// or rediss:// URL with source: sidekiq");
    if (Present(url_path) && Clean(url_path)) {
      // The connection's own parser: what it would refuse is refused now, located. Its messages
      // mask the password.
      if (Result<RedisEndpoint> endpoint = ParseRedisUrl(latency.url); !endpoint.ok()) {
        Error(ValueAt(url_path), url_path, endpoint.status().message());
      }
    }
    const std::string queues_path = path + ".queues";
    if (!Present(queues_path)) {
      Error(ParentAt(path), queues_path,
            "required with source: sidekiq: the queues this formation works, or [\"*\"]");
    } else if (Clean(queues_path)) {
      std::map<std::string, size_t> seen;
      for (size_t i = 0; i < latency.queues.size(); ++i) {
        auto [first, inserted] = seen.emplace(latency.queues[i], i);
        if (!inserted) {
          const std::string item_path = Index(queues_path, i);
          Error(ValueAt(item_path), item_path,
                "duplicate queue " + Quote(latency.queues[i]) + "; first at " +
                    Index("queues", first->second));
        }
      }
    }
    const std::string window_path = path + ".window";
    if (Present(window_path)) {
      Error(KeyAt(window_path), window_path,
            "not with source: sidekiq, whose queues are read as they are at each pass");
    }
    const std::string statistic_path = path + ".statistic";
    if (Present(statistic_path) && Clean(statistic_path) && latency.statistic != Statistic::kMax) {
      Error(ValueAt(statistic_path), statistic_path,
            "must be max with source: sidekiq, whose formation latency is the longest wait in "
            "its queues (got " +
                std::string(Name(latency.statistic)) + ")");
    }
    latency.statistic = Statistic::kMax;
    const std::string ca_path = path + ".tlsCaFile";
    if (Present(ca_path) && Clean(path + ".tlsVerify") && !latency.tls_verify) {
      Error(KeyAt(ca_path), ca_path,
            "needs tlsVerify: true (a CA file is for verifying; tlsVerify: false trusts any "
            "certificate)");
    }
  }

  // Laggards judge single dynos; queue latency says nothing about them.
  void CheckSidekiqFormation(const std::string& path) {
    const std::string laggards_path = path + ".laggards";
    if (Present(laggards_path)) {
      Error(KeyAt(laggards_path), laggards_path,
            "not with latency.source: sidekiq: queue latency says nothing about single dynos");
    }
  }

  void CheckAutoscale(AutoscaleSpec& autoscale, const std::string& path) {
    CheckCapacityFields(autoscale, path);
    const std::string latency_path = path + ".latencyThreshold";
    const std::string restored_path = path + ".restoredThreshold";
    if (!Present(restored_path)) {
      autoscale.restored_threshold = autoscale.latency_threshold;
    } else if (Clean(latency_path) && Clean(restored_path) &&
               autoscale.restored_threshold > autoscale.latency_threshold) {
      Error(ValueAt(restored_path), restored_path,
            "must be <= latencyThreshold " + FormatDuration(autoscale.latency_threshold) +
                " (got " + FormatDuration(autoscale.restored_threshold) + ")");
    }
  }

  void CheckCapacityFields(const AutoscaleSpec& autoscale, const std::string& path) {
    const std::string mode_path = path + ".mode";
    if (!Clean(mode_path)) return;
    if (autoscale.mode == AutoscaleMode::kCapacity) {
      if (!Present(path + ".concurrency")) {
        Error(ParentAt(path), path + ".concurrency",
              "required with mode: capacity: how many requests (web) or jobs (worker) one dyno "
              "serves at once, which turns the observed load into dynos");
      }
      return;
    }
    for (const char* name : {"targetUtilization", "concurrency"}) {
      const std::string field_path = Join(path, name);
      if (Present(field_path)) {
        Error(
            KeyAt(field_path), field_path,
            "allowed only with mode: capacity (mode is " + std::string(Name(autoscale.mode)) + ")");
      }
    }
  }

  // min <= max, and a declared quantity between them (schedules may move both: they are checked
  // against what they leave to the formation).
  void CheckBounds(const FormationSpec& formation, const std::string& path) {
    const std::string min_path = path + ".min";
    const std::string max_path = path + ".max";
    const bool min_ok = formation.min && Clean(min_path);
    const bool max_ok = formation.max && Clean(max_path);
    if (min_ok && max_ok && *formation.min > *formation.max) {
      Error(ValueAt(min_path), min_path,
            "must be <= max " + std::to_string(*formation.max) + " (got " +
                std::to_string(*formation.min) + ")");
    }
    const std::string quantity_path = path + ".quantity";
    if (!formation.quantity || !Clean(quantity_path)) return;
    if (min_ok && *formation.quantity < *formation.min) {
      Error(ValueAt(quantity_path), quantity_path,
            "must be >= min " + std::to_string(*formation.min) + " (got " +
                std::to_string(*formation.quantity) +
                "); use a schedule for a floor that "
                "changes with the time of day");
    } else if (max_ok && *formation.quantity > *formation.max) {
      Error(ValueAt(quantity_path), quantity_path,
            "must be <= max " + std::to_string(*formation.max) + " (got " +
                std::to_string(*formation.quantity) + ")");
    }
  }

  void CheckSchedule(const FormationSpec& formation, ScheduleSpec& schedule,
                     const std::string& path) {
    if (!Intact(path)) return;
    if (!Present(path + ".name")) schedule.name = path.substr(path.rfind('.') + 1);
    CheckScheduleWindow(schedule, path);
    const std::string zone_path = path + ".timezone";
    if (Clean(zone_path)) {
      Result<TimeZone> zone = LoadTimeZone(schedule.timezone, env_);
      if (zone.ok()) {
        schedule.zone = std::move(zone).value();
      } else {
        Error(Present(zone_path) ? ValueAt(zone_path) : ParentAt(path), zone_path,
              zone.status().message());
      }
    }
    const std::string min_path = path + ".min";
    const std::string max_path = path + ".max";
    if (!Present(min_path) && !Present(max_path)) {
      Error(ParentAt(path), path + ".min",
            "a schedule needs min, max or both: the floor and ceiling it sets");
      return;
    }
    // What the schedule leaves out comes from the formation: the pair must still make sense.
    const std::optional<int> min = schedule.min ? schedule.min : formation.min;
    const std::optional<int> max = schedule.max ? schedule.max : formation.max;
    if (min && max && *min > *max && Clean(min_path) && Clean(max_path)) {
      const bool own_max = schedule.max.has_value();
      const std::string at = schedule.min ? min_path : max_path;
      Error(ValueAt(at), at,
            "min " + std::to_string(*min) + " is above max " + std::to_string(*max) +
                (own_max ? "" : " (the formation's; set max in the schedule too)") +
                (schedule.min ? "" : " (min is the formation's)"));
    }
  }

  // cron and for, or days and hours: one form, complete.
  void CheckScheduleWindow(ScheduleSpec& schedule, const std::string& path) {
    const bool cron = Present(path + ".cron");
    const bool weekly = Present(path + ".days") || Present(path + ".hours");
    if (cron && weekly) {
      Error(KeyAt(path + ".cron"), path + ".cron",
            "a schedule is either cron and for, or days and hours, not both");
      return;
    }
    if (!cron && !weekly) {
      Error(ParentAt(path), path + ".days",
            "required: days and hours (\"mon-fri\", \"07:30-10:00\"), or cron and for");
      return;
    }
    if (cron) {
      if (!Present(path + ".for")) {
        Error(ParentAt(path), path + ".for", "required with cron: how long the window stays open");
      }
      const std::string cron_path = path + ".cron";
      if (!Clean(cron_path)) return;
      Result<CronExpression> parsed = ParseCron(schedule.cron);
      if (parsed.ok()) {
        schedule.parsed_cron = *parsed;
      } else {
        Error(ValueAt(cron_path), cron_path, parsed.status().message());
      }
      return;
    }
    if (Present(path + ".for")) {
      Error(KeyAt(path + ".for"), path + ".for", "allowed only with cron");
    }
    for (const char* name : {"days", "hours"}) {
      if (!Present(Join(path, name))) {
        Error(ParentAt(path), Join(path, name),
              std::string("required with ") + (name[0] == 'd' ? "hours" : "days"));
      }
    }
    if (!Clean(path + ".days") || !Clean(path + ".hours") || !Present(path + ".days") ||
        !Present(path + ".hours")) {
      return;
    }
    WeeklyWindow window;
    Result<std::bitset<7>> days = ParseDays(schedule.days);
    if (!days.ok()) {
      Error(ValueAt(path + ".days"), path + ".days", days.status().message());
      return;
    }
    window.days = *days;
    if (Status s = ParseHours(schedule.hours, window); !s.ok()) {
      Error(ValueAt(path + ".hours"), path + ".hours", s.message());
      return;
    }
    schedule.weekly = window;
  }

  // provider sim, source sidekiq: the simulated formation must be a worker, whose queue it reads.
  void CheckSimulatedSidekiq(const Policy& policy, const FormationSpec& formation,
                             const std::string& path) {
    if (!policy.sim || !Intact("spec.sim.formations")) return;
    const SimFormationSpec* simulated = FindSimFormation(*policy.sim, formation.type);
    if (simulated && simulated->rps) {
      const std::string source_path = path + ".latency.source";
      Error(ValueAt(source_path), source_path,
            "sidekiq needs a simulated worker formation (jobTime and jobsPerSecond); " +
                formation.type + " is simulated as web");
    }
  }

  static const SimFormationSpec* FindSimFormation(const SimSpec& sim, std::string_view type) {
    for (const auto& f : sim.formations) {
      if (f.type == type) return &f;
    }
    return nullptr;
  }

  void CheckSim(const SimSpec& sim, const std::string& path) {
    for (const auto& formation : sim.formations) {
      const std::string entry = path + ".formations." + formation.type;
      if (!Clean(entry)) continue;
      const bool web = formation.service_time || formation.rps;
      const bool worker = formation.job_time || formation.jobs_per_second;
      if (!web && !worker) {
        Error(KeyAt(entry), entry,
              "needs serviceTime and rps (a web formation) or jobTime and jobsPerSecond (a "
              "worker formation)");
      } else if (web && worker) {
        Error(KeyAt(entry), entry,
              "mixes web fields (serviceTime, rps) with worker fields (jobTime, jobsPerSecond); "
              "a formation is one or the other");
      } else if (web && !formation.service_time) {
        Error(KeyAt(entry), entry + ".serviceTime", "required with rps");
      } else if (web && !formation.rps) {
        Error(KeyAt(entry), entry + ".rps", "required with serviceTime");
      } else if (worker && !formation.job_time) {
        Error(KeyAt(entry), entry + ".jobTime", "required with jobsPerSecond");
      } else if (worker && !formation.jobs_per_second) {
        Error(KeyAt(entry), entry + ".jobsPerSecond", "required with jobTime");
      }
    }
    const bool formations_ok = Intact(path + ".formations");
    for (size_t i = 0; i < sim.incidents.size(); ++i) {
      const SimIncidentSpec& incident = sim.incidents[i];
      const std::string entry = Index(path + ".incidents", i);
      if (!Intact(entry) || !Clean(entry + ".kind")) continue;
      const bool noisy = incident.kind == IncidentKind::kNoisyNeighbor;
      const std::string kind(Name(incident.kind));
      auto only_with = [&](const char* name, std::string_view other_kind, std::string why) {
        const std::string p = Join(entry, name);
        if (Present(p)) {
          Error(KeyAt(p), p, "allowed only with kind: " + std::string(other_kind) + why);
        }
      };
      if (noisy) {
        only_with("formation", "surge", " (a noisy neighbour names its dyno)");
        only_with("for", "surge", " (a noisy neighbour lasts until its dyno restarts)");
        CheckIncidentDyno(sim, incident, entry, formations_ok);
        const std::string factor_path = entry + ".factor";
        if (Clean(factor_path) && Present(factor_path) && incident.factor < 1) {
          Error(ValueAt(factor_path), factor_path,
                "must be >= 1 for a noisy neighbour, which slows its dyno down (got " +
                    FormatNumber(incident.factor) + ")");
        }
      } else {
        only_with("dyno", "noisy-neighbor", " (a surge names its formation)");
        const std::string formation_path = entry + ".formation";
        if (!Present(formation_path)) {
          Error(ParentAt(entry), formation_path, "required with kind: " + kind);
        } else if (Clean(formation_path) && formations_ok &&
                   !FindSimFormation(sim, incident.formation)) {
          Error(ValueAt(formation_path), formation_path,
                "no simulated formation " + Quote(incident.formation) + " in spec.sim.formations");
        }
      }
      const std::string at_path = entry + ".at";
      if (Clean(at_path) && Clean(path + ".duration") && incident.at >= sim.duration) {
        Error(ValueAt(at_path), at_path,
              "must be before the end of the simulation, duration " + FormatDuration(sim.duration) +
                  " (got " + FormatDuration(incident.at) + ")");
      }
    }
  }

  void CheckIncidentDyno(const SimSpec& sim, const SimIncidentSpec& incident,
                         const std::string& entry, bool formations_ok) {
    const std::string dyno_path = entry + ".dyno";
    if (!Present(dyno_path)) {
      Error(ParentAt(entry), dyno_path, "required with kind: noisy-neighbor");
      return;
    }
    if (!Clean(dyno_path) || !formations_ok) return;
    const size_t dot = incident.dyno.rfind('.');
    const std::string type = incident.dyno.substr(0, dot);
    const int number = std::stoi(incident.dyno.substr(dot + 1));
    const SimFormationSpec* formation = FindSimFormation(sim, type);
    if (formation == nullptr) {
      Error(ValueAt(dyno_path), dyno_path,
            "no simulated formation " + Quote(type) + " in spec.sim.formations");
    } else if (number > formation->quantity) {
      std::string has = formation->quantity == 0
                            ? type + " has no dynos"
                            : type + " has " + std::to_string(formation->quantity) + " (" + type +
                                  ".1 to " + type + "." + std::to_string(formation->quantity) + ")";
      Error(ValueAt(dyno_path), dyno_path,
            "no dyno " + Quote(incident.dyno) + " at the start of the simulation: " + has);
    }
  }

  const std::string& file_;
  const EnvLookup& env_;
  const LoadOptions& options_;
  std::vector<LoadError>& errors_;
  const size_t first_error_;  // this document's errors are errors_[first_error_..]
  std::map<std::string, Place> places_;
};

// Where yaml-cpp 0.7 would loop forever, if anywhere: on a stream such as ",\n" its parser keeps
// returning an empty document at the same place, and YAML::LoadAll collects them until memory runs
// out. Reading the stream document by document first finds that place; any other YAML error is
// left for LoadAll to report.
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::optional<YAML::Mark> start;
};

std::optional<YAML::Mark> StuckParserAt(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  std::optional<int> previous;
  try {
    for (;;) {
      DocumentStarts events;
      if (!parser.HandleNextDocument(events)) return std::nullopt;
      // Every document starts with an event; one without, or at no later place, is the loop.
      if (!events.start || (previous && events.start->pos <= *previous)) {
        return events.start.value_or(YAML::Mark::null_mark());
      }
      previous = events.start->pos;
    }
  } catch (const YAML::Exception&) {
    return std::nullopt;  // LoadAll reports it, with its location
  }
}

// Accumulates policies from several inputs and checks what spans them (unique names).
class PolicySetBuilder {
 public:
  PolicySetBuilder(const EnvLookup& env, const LoadOptions& options)
      : env_(env), options_(options) {}

  void AddError(LoadError error) { errors_.push_back(std::move(error)); }

  void AddText(std::string_view text, const std::string& filename) {
    const size_t first_error = errors_.size();
    std::vector<YAML::Node> documents;
    const std::string whole(text);
    if (std::optional<YAML::Mark> stuck = StuckParserAt(whole)) {
      errors_.push_back(LoadError{At(filename, *stuck), "",
                                  "invalid YAML: unexpected content at the start of a document "
                                  "(a stray ',', or text the parser cannot read past)"});
      return;
    }
    try {
      documents = YAML::LoadAll(whole);
    } catch (const YAML::Exception& e) {
      errors_.push_back(LoadError{At(filename, e.mark), "", "invalid YAML: " + e.msg});
      return;
    }
    size_t loaded = 0;
    for (const auto& document : documents) {
      if (document.IsNull()) continue;  // "---" with nothing after it
      ++loaded;
      try {
        DocumentLoader loader(filename, env_, options_, errors_);
        LoadedDocument doc = loader.Load(document);
        if (CheckUniqueName(doc) && doc.ok) CheckFormationsUnclaimed(doc.policy);
        if (doc.ok) policies_.push_back(std::move(doc.policy));
      } catch (const YAML::Exception& e) {
        errors_.push_back(LoadError{At(filename, e.mark), "", "cannot read YAML: " + e.msg});
      }
    }
    if (loaded == 0) {
      errors_.push_back(LoadError{SourceLocation{filename}, "", "no FormationPolicy documents"});
    }
    std::stable_sort(errors_.begin() + static_cast<std::ptrdiff_t>(first_error), errors_.end(),
                     [](const LoadError& a, const LoadError& b) {
                       return std::pair(a.location.line, a.location.column) <
                              std::pair(b.location.line, b.location.column);
                     });
  }

  LoadResult Finish() && {
    LoadResult result;
    result.errors = std::move(errors_);
    if (result.errors.empty()) result.policies = std::move(policies_);
    return result;
  }

 private:
  // False when the name is taken (one error for a copied document, not one per formation too).
  bool CheckUniqueName(const LoadedDocument& doc) {
    if (!doc.name_at) return true;
    auto [first, inserted] = names_.emplace(doc.policy.name, *doc.name_at);
    if (!inserted) {
      errors_.push_back(LoadError{*doc.name_at, "metadata.name",
                                  "duplicate policy name " + Quote(doc.policy.name) +
                                      "; first defined at " + first->second.ToString()});
    }
    return inserted;
  }

  // Two policies steering one Heroku formation would undo each other's scaling every pass (each
  // corrects the other's quantity as drift). Only names are compared: an app given by name in one
  // policy and by id in another cannot be caught offline (docs/spec.md). Sim policies each get a
  // world of their own, so they cannot collide.
  void CheckFormationsUnclaimed(const Policy& policy) {
    if (policy.provider != ProviderKind::kHeroku) return;
    for (size_t i = 0; i < policy.formations.size(); ++i) {
      const FormationSpec& formation = policy.formations[i];
      const auto [first, inserted] = formation_owners_.emplace(
          std::pair(policy.app, formation.type), std::pair(policy.name, formation.location));
      if (inserted) continue;
      errors_.push_back(LoadError{
          formation.location, "spec.formations[" + std::to_string(i) + "]",
          "formation " + Quote(formation.type) + " of app " + Quote(policy.app) +
              " is already managed by policy " + Quote(first->second.first) + " (" +
              first->second.second.ToString() + "); two policies would undo each other's scaling"});
    }
  }

  const EnvLookup& env_;
  const LoadOptions& options_;
  std::vector<Policy> policies_;
  std::vector<LoadError> errors_;
  std::map<std::string, SourceLocation> names_;
  // (app, formation type) -> (policy name, where the formation is declared)
  std::map<std::pair<std::string, std::string>, std::pair<std::string, SourceLocation>>
      formation_owners_;
};

// Reads at most kMaxInputBytes; nullopt (and an error) when the stream is longer or unreadable.
std::optional<std::string> ReadAll(std::istream& in, const std::string& name,
                                   PolicySetBuilder& set) {
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxInputBytes) {
      set.AddError(
          {SourceLocation{name}, "",
           "larger than " + std::to_string(kMaxInputBytes >> 20) + " MiB; is this a policy file?"});
      return std::nullopt;
    }
  }
  if (in.bad()) {
    set.AddError({SourceLocation{name}, "", "cannot read: " + std::string(std::strerror(errno))});
    return std::nullopt;
  }
  return text;
}

bool IsPolicyFileName(const fs::path& path) {
  const std::string name = path.filename().string();
  const std::string ext = path.extension().string();
  return !name.empty() && name[0] != '.' && (ext == ".yaml" || ext == ".yml");
}

}  // namespace

std::string LoadError::ToString() const {
  std::string out = location.ToString();
  if (!field.empty()) out += (out.empty() ? "" : ": ") + field;
  return out + (out.empty() ? "" : ": ") + message;
}

std::string LoadResult::ErrorText() const {
  std::string out;
  for (const auto& e : errors)
    out += e.ToString() + "\n";
  return out;
}

LoadResult ParsePolicies(std::string_view text, const std::string& filename, const EnvLookup& env,
                         const LoadOptions& options) {
  PolicySetBuilder set(env, options);
  set.AddText(text, filename);
  return std::move(set).Finish();
}

LoadResult LoadPolicies(const std::vector<std::string>& paths, const EnvLookup& env,
                        std::istream& stdin_stream, const LoadOptions& options) {
  PolicySetBuilder set(env, options);
  std::set<fs::path> read;  // canonical paths, so a file named twice is read once
  bool stdin_read = false;

  auto load_file = [&](const fs::path& path, const std::string& shown) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (!read.insert(ec ? path : canonical).second) return;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      set.AddError(
          {SourceLocation{shown}, "", "cannot open: " + std::string(std::strerror(errno))});
      return;
    }
    if (std::optional<std::string> text = ReadAll(in, shown, set)) set.AddText(*text, shown);
  };

  for (const auto& arg : paths) {
    if (arg == "-") {
      if (stdin_read) {
        set.AddError({SourceLocation{"<stdin>"}, "", "\"-\" (standard input) given twice"});
        continue;
      }
      stdin_read = true;
      if (std::optional<std::string> text = ReadAll(stdin_stream, "<stdin>", set)) {
        set.AddText(*text, "<stdin>");
      }
      continue;
    }
    std::error_code ec;
    fs::file_status status = fs::status(arg, ec);
    if (ec || !fs::exists(status)) {
      set.AddError({SourceLocation{arg}, "", "no such file or directory"});
      continue;
    }
    if (!fs::is_directory(status)) {
      load_file(arg, arg);
      continue;
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (IsPolicyFileName(it->path()) && it->is_regular_file(type_ec)) files.push_back(it->path());
    }
    if (ec) {
      set.AddError({SourceLocation{arg}, "", "cannot list directory: " + ec.message()});
      continue;
    }
    if (files.empty()) {
      set.AddError({SourceLocation{arg}, "", "no *.yaml or *.yml files in this directory"});
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files)
      load_file(file, file.string());
  }
  return std::move(set).Finish();
}

}  // namespace dynoherd::spec
