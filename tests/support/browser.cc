#include "tests/support/browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace dynoherd::testing {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// What is left of the browser's log after a failure: enough to see why, not the whole of it.
std::string LogTail(const std::filesystem::path& log) {
  const std::string text = ReadFile(log);
  constexpr std::size_t kTail = 3000;
  return text.size() <= kTail ? text : text.substr(text.size() - kTail);
}

int MillisecondsUntil(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// A pipe end moved above the fds the child will use (3 and 4), close-on-exec, so a dup2 onto 3
// or 4 never meets itself and nothing leaks into other children.
int HighCloexec(int fd) {
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return moved;
}

// The browser as a child process in a process group of its own, so that stopping it stops its
// renderers and helpers too.
class BrowserProcess {
 public:
  BrowserProcess() = default;
  BrowserProcess(const BrowserProcess&) = delete;
  BrowserProcess& operator=(const BrowserProcess&) = delete;
  ~BrowserProcess() { Stop(SteadyClock::now()); }

  Status Start(const std::string& binary, const std::vector<std::string>& args,
               const std::filesystem::path& log) {
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0)
      return Status::Internal(std::string("pipe: ") + std::strerror(errno));
    if (::pipe(from_child) != 0) {
      ::close(to_child[0]);
      ::close(to_child[1]);
      return Status::Internal(std::string("pipe: ") + std::strerror(errno));
    }
    const int child_reads = HighCloexec(to_child[0]);
    const int child_writes = HighCloexec(from_child[1]);
    write_fd_ = HighCloexec(to_child[1]);
    read_fd_ = HighCloexec(from_child[0]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_adddup2(&actions, child_reads, 3);
    posix_spawn_file_actions_adddup2(&actions, child_writes, 4);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int spawned = ::posix_spawn(&pid_, binary.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(child_reads);
    ::close(child_writes);
    if (spawned != 0) {
      pid_ = -1;
      return Status::Unavailable("cannot start " + binary + ": " + std::strerror(spawned));
    }
    return Status::Ok();
  }

  int write_fd() const { return write_fd_; }
  int read_fd() const { return read_fd_; }

  // Gives the browser until `grace` to exit on its own (it closes its end of the pipe when it
  // does), then kills its process group and reaps it. The group leader is reaped last, so its
  // id cannot have been reused by then.
  void Stop(SteadyClock::time_point grace) {
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
    if (read_fd_ >= 0) {
      char buffer[4096];
      while (true) {
        pollfd p{read_fd_, POLLIN, 0};
        if (::poll(&p, 1, MillisecondsUntil(grace)) <= 0) break;
        if (::read(read_fd_, buffer, sizeof(buffer)) <= 0) break;
      }
      ::close(read_fd_);
      read_fd_ = -1;
    }
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int write_fd_ = -1;
  int read_fd_ = -1;
};

// The DevTools protocol over the pipe: commands out, responses and events in, all before one
// deadline. Events that arrive while a command waits for its response go to on_event.
class DevTools {
 public:
  DevTools(int write_fd, int read_fd, SteadyClock::time_point deadline)
      : write_fd_(write_fd), read_fd_(read_fd), deadline_(deadline) {}

  std::function<void(const json&)> on_event;

  Result<json> Call(const std::string& method, json params = json::object(),
                    const std::string& session = "") {
    const int id = next_id_++;
    if (Status s = Send(id, method, std::move(params), session); !s.ok()) return s;
    while (true) {
      Result<json> message = Next();
      if (!message.ok()) return message.status().WithContext(method);
      if (message->contains("id")) {
        if ((*message)["id"] != id) continue;
        if (message->contains("error")) {
          return Status::Internal(method + ": " + (*message)["error"].dump());
        }
        return message->contains("result") ? (*message)["result"] : json::object();
      }
      if (on_event) on_event(*message);
    }
  }

  // Reads events until `done` says so.
  Status WaitFor(const std::string& what, const std::function<bool()>& done) {
    while (!done()) {
      Result<json> message = Next();
      if (!message.ok()) return message.status().WithContext("waiting for " + what);
      if (!message->contains("id") && on_event) on_event(*message);
    }
    return Status::Ok();
  }

  // A command whose answer is not awaited: Browser.close may exit before it replies.
  Status Notify(const std::string& method) { return Send(next_id_++, method, json::object(), ""); }

 private:
  Status Send(int id, const std::string& method, json params, const std::string& session) {
    json message = {{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty()) message["sessionId"] = session;
    std::string text = message.dump();
    text.push_back('\0');
    std::size_t sent = 0;
    while (sent < text.size()) {
      pollfd p{write_fd_, POLLOUT, 0};
      if (::poll(&p, 1, MillisecondsUntil(deadline_)) <= 0) {
        return Status::DeadlineExceeded("the browser does not read its pipe");
      }
      const ssize_t n = ::write(write_fd_, text.data() + sent, text.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::Unavailable("the browser closed its pipe");
      sent += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }

  Result<json> Next() {
    while (true) {
      const std::size_t end = buffer_.find('\0');
      if (end != std::string::npos) {
        const std::string text = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (message.is_discarded()) return Status::Internal("the browser sent something not JSON");
        return message;
      }
      pollfd p{read_fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, MillisecondsUntil(deadline_));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return Status::DeadlineExceeded("the browser did not answer in time");
      char chunk[65536];
      const ssize_t n = ::read(read_fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::Unavailable("the browser exited");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int write_fd_;
  int read_fd_;
  SteadyClock::time_point deadline_;
  int next_id_ = 1;
  std::string buffer_;
};

// The string at `path` inside `value`, "" when any step is missing or not what it should be.
std::string StringAt(const json& value, std::initializer_list<const char*> path) {
  const json* at = &value;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return "";
    at = &(*at)[key];
  }
  return at->is_string() ? at->get<std::string>() : "";
}

bool StaysOnThisMachine(const std::string& url) {
  for (const char* prefix : {"file:", "data:", "about:", "blob:", "http://127.0.0.1:",
                             "http://127.0.0.1/", "https://127.0.0.1:", "https://127.0.0.1/"}) {
    if (url.starts_with(prefix)) return true;
  }
  return false;
}

std::string ConsoleText(const json& params) {
  std::string text;
  if (!params.contains("args") || !params["args"].is_array()) return text;
  for (const json& arg : params["args"]) {
    if (!text.empty()) text += ' ';
    if (arg.contains("value")) {
      text += arg["value"].is_string() ? arg["value"].get<std::string>() : arg["value"].dump();
    } else {
      text += StringAt(arg, {"description"});
    }
  }
  return text;
}

void RecordEvent(const json& event, BrowserPage& page, bool& loaded) {
  const std::string method = StringAt(event, {"method"});
  const json params = event.contains("params") ? event["params"] : json::object();
  if (method == "Page.loadEventFired") {
    loaded = true;
  } else if (method == "Runtime.consoleAPICalled") {
    const std::string type = StringAt(params, {"type"});
    if (type == "error" || type == "assert") {
      page.console_errors.push_back("console." + type + ": " + ConsoleText(params));
    }
  } else if (method == "Runtime.exceptionThrown") {
    std::string text = StringAt(params, {"exceptionDetails", "exception", "description"});
    if (text.empty()) text = StringAt(params, {"exceptionDetails", "text"});
    page.console_errors.push_back("uncaught: " + text);
  } else if (method == "Log.entryAdded") {
    if (StringAt(params, {"entry", "level"}) == "error") {
      page.console_errors.push_back(StringAt(params, {"entry", "text"}) + " (" +
                                    StringAt(params, {"entry", "url"}) + ")");
    }
  } else if (method == "Network.requestWillBeSent") {
    const std::string url = StringAt(params, {"request", "url"});
    if (!StaysOnThisMachine(url)) page.outside_requests.push_back(url);
  } else if (method == "Inspector.targetCrashed") {
    page.console_errors.push_back("the page crashed");
  }
}

Result<std::string> Base64Decode(const std::string& text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=')
      break;
    else
      return Status::Internal("screenshot: not base64");
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

Result<json> Evaluate(DevTools& devtools, const std::string& session, const std::string& expression,
                      bool await_promise = false) {
  Result<json> result = devtools.Call(
      "Runtime.evaluate",
      {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", await_promise}},
      session);
  if (!result.ok()) return result;
  if (result->contains("exceptionDetails")) {
    return Status::Internal("evaluating " + expression + ": " +
                            (*result)["exceptionDetails"].dump());
  }
  const json& value = (*result)["result"];
  return value.contains("value") ? value["value"] : json();
}

// The visit itself, once the browser runs: open a tab, load, wait for paint, read, capture.
Result<BrowserPage> Visit(DevTools& devtools, const std::string& url,
                          const BrowserOptions& options) {
  BrowserPage page;
  bool loaded = false;
  devtools.on_event = [&](const json& event) { RecordEvent(event, page, loaded); };

  Result<json> target = devtools.Call("Target.createTarget", {{"url", "about:blank"}});
  if (!target.ok()) return target.status();
  Result<json> attached = devtools.Call(
      "Target.attachToTarget", {{"targetId", StringAt(*target, {"targetId"})}, {"flatten", true}});
  if (!attached.ok()) return attached.status();
  const std::string session = StringAt(*attached, {"sessionId"});
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"}) {
    if (Result<json> r = devtools.Call(domain, json::object(), session); !r.ok()) return r.status();
  }
  Result<json> metrics = devtools.Call("Emulation.setDeviceMetricsOverride",
                                       {{"width", options.viewport_width},
                                        {"height", options.viewport_height},
                                        {"deviceScaleFactor", 1},
                                        {"mobile", false}},
                                       session);
  if (!metrics.ok()) return metrics.status();

  loaded = false;
  Result<json> navigated = devtools.Call("Page.navigate", {{"url", url}}, session);
  if (!navigated.ok()) return navigated.status();
  if (const std::string error = StringAt(*navigated, {"errorText"}); !error.empty()) {
    return Status::Unavailable("loading " + url + ": " + error);
  }
  if (Status s = devtools.WaitFor("the load event", [&] { return loaded; }); !s.ok()) return s;
  // Fonts in, then two animation frames: the second starts only after the first was painted.
  Result<json> painted = Evaluate(devtools, session,
                                  "document.fonts.ready.then(() => new Promise(done => "
                                  "requestAnimationFrame(() => requestAnimationFrame(() => "
                                  "done(true)))))",
                                  /*await_promise=*/true);
  if (!painted.ok()) return painted.status();

  if (!options.count.empty()) {
    const std::string expression = "JSON.stringify(" + json(options.count).dump() +
                                   ".map(s => document.querySelectorAll(s).length))";
    Result<json> counted = Evaluate(devtools, session, expression);
    if (!counted.ok()) return counted.status();
    const json counts = json::parse(counted->get<std::string>());
    for (std::size_t i = 0; i < options.count.size(); ++i) {
      page.counts[options.count[i]] = counts[i].get<int>();
    }
  }
  if (!options.boxes_of.empty()) {
    const std::string expression =
        "JSON.stringify([...document.querySelectorAll(" + json(options.boxes_of).dump() +
        ")].map(e => { const r = e.getBoundingClientRect(); return [r.left + scrollX, "
        "r.top + scrollY, r.width, r.height].map(Math.round); }))";
    Result<json> boxes = Evaluate(devtools, session, expression);
    if (!boxes.ok()) return boxes.status();
    for (const json& b : json::parse(boxes->get<std::string>())) {
      page.boxes.push_back({b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>()});
    }
  }
  Result<json> dom = Evaluate(devtools, session, "document.documentElement.outerHTML");
  if (!dom.ok()) return dom.status();
  page.dom = dom->is_string() ? dom->get<std::string>() : "";
  Result<json> title = Evaluate(devtools, session, "document.title");
  if (!title.ok()) return title.status();
  page.title = title->is_string() ? title->get<std::string>() : "";

  Result<json> layout = devtools.Call("Page.getLayoutMetrics", json::object(), session);
  if (!layout.ok()) return layout.status();
  const json& content =
      layout->contains("cssContentSize") ? (*layout)["cssContentSize"] : (*layout)["contentSize"];
  const int height = std::clamp(static_cast<int>(std::ceil(content["height"].get<double>())), 1,
                                options.max_screenshot_height);
  Result<json> shot = devtools.Call(
      "Page.captureScreenshot",
      {{"format", "png"},
       {"captureBeyondViewport", true},
       {"clip",
        {{"x", 0}, {"y", 0}, {"width", options.viewport_width}, {"height", height}, {"scale", 1}}}},
      session);
  if (!shot.ok()) return shot.status();
  Result<std::string> png = Base64Decode(StringAt(*shot, {"data"}));
  if (!png.ok()) return png.status();
  page.png = std::move(*png);
  // The page is read: a browser that cannot be told to close is stopped by the caller anyway.
  (void)devtools.Notify("Browser.close");
  return page;
}

}  // namespace

std::optional<std::string> FindChromium() {
  if (const char* chosen = std::getenv("DYNOHERD_CHROMIUM"); chosen != nullptr && *chosen != '\0') {
    return ::access(chosen, X_OK) == 0 ? std::optional<std::string>(chosen) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const std::string candidate = dirs.substr(start, end - start) + "/" + name;
      if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  return std::nullopt;
}

std::string FileUrl(const std::filesystem::path& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string url = "file://";
  for (const unsigned char c : std::filesystem::absolute(path).string()) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      url += static_cast<char>(c);
    } else {
      url += '%';
      url += kHex[c >> 4];
      url += kHex[c & 15];
    }
  }
  return url;
}

Result<BrowserPage> LoadInBrowser(const std::string& url, const BrowserOptions& options) {
  const std::optional<std::string> chromium = FindChromium();
  if (!chromium) return Status::NotFound("no chromium on PATH (apt-get install chromium)");
  // A browser that dies mid-write must fail the test, not kill it with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);

  const TempDir scratch;
  const std::filesystem::path log = scratch.path() / "chromium.log";
  const std::vector<std::string> args = {
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--user-data-dir=" + (scratch.path() / "profile").string(),
      "--remote-debugging-pipe",
      "--enable-logging=stderr",
      "--v=0",
      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
      "--no-default-browser-check",
      "--disable-extensions",
      "--mute-audio",
      "--hide-scrollbars",
      "--force-device-scale-factor=1",
      "--window-size=" + std::to_string(options.viewport_width) + "," +
          std::to_string(options.viewport_height),
      "about:blank"};
  const auto deadline = SteadyClock::now() + options.timeout;
  Result<BrowserPage> page = Status::Internal("not visited");
  {
    BrowserProcess browser;
    if (Status s = browser.Start(*chromium, args, log); !s.ok()) return s;
    DevTools devtools(browser.write_fd(), browser.read_fd(), deadline);
    try {
      page = Visit(devtools, url, options);
    } catch (const json::exception& e) {
      page = Status::Internal(std::string("unexpected DevTools answer: ") + e.what());
    }
    browser.Stop(std::min(deadline, SteadyClock::now() + std::chrono::seconds(5)));
  }
  if (!page.ok()) {
    return Status::Unavailable(*chromium + ": " + page.status().message() +
                               "\n--- the end of the browser's log ---\n" + LogTail(log));
  }
  return page;
}

void KeepForPeople(const std::string& name, const std::string& bytes) {
  const char* dir = std::getenv("DYNOHERD_SCREENSHOT_DIR");
  if (dir == nullptr || *dir == '\0') return;
  std::ofstream out(std::filesystem::path(dir) / name, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace dynoherd::testing
