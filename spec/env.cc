#include "spec/env.h"

#include <cstdlib>

namespace dynoherd::spec {
namespace {

bool IsNameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9');
}

}  // namespace

Result<std::string> ExpandVariables(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      out += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(
          "\"${\" without a closing \"}\" (write \"$$\" for a literal \"$\")");
    }
    std::string name(text.substr(i + 2, close - i - 2));
    // ${NAME:-default}: the default (taken literally) when NAME is unset or empty, as in sh.
    std::optional<std::string> fallback;
    if (size_t dash = name.find(":-"); dash != std::string::npos) {
      fallback = name.substr(dash + 2);
      name.resize(dash);
    }
    bool valid = !name.empty() && IsNameStart(name[0]);
    for (char n : name)
      valid = valid && IsNameChar(n);
    if (!valid) {
      std::string reference = "\"";  // not `"\"" + std::string(...)`: see spec/loader.cc Quote
      reference.append(text.substr(i, close - i + 1));
      return Status::InvalidArgument(reference +
                                     "\" is not a variable reference: ${NAME} takes letters, "
                                     "digits and '_' (write \"$$\" for a literal \"$\")");
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (fallback && (!value || value->empty())) value = fallback;
    if (!value) return Status::InvalidArgument("environment variable " + name + " is not set");
    out += *value;
    i = close + 1;
  }
  return out;
}

}  // namespace dynoherd::spec
