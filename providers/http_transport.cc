#include "providers/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "common/crash_point.h"
#include "common/logging.h"

namespace dynoherd::providers {
namespace {

constexpr size_t kMaxErrorBodyBytes = 64u << 10;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One easy handle per thread. curl_easy_reset clears the options but keeps the live connections,
// the TLS session cache and the DNS cache: that is what makes keep-alive work across requests.
struct ThreadHandle {
  ThreadHandle() : handle(curl_easy_init()) {}
  ~ThreadHandle() {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }
  ThreadHandle(const ThreadHandle&) = delete;
  ThreadHandle& operator=(const ThreadHandle&) = delete;
  CURL* handle;
  bool busy = false;
};

// The thread's handle for one exchange; a nested exchange (a stream callback that sends a request)
// gets a handle of its own instead of resetting the one in use.
class HandleLease {
 public:
  HandleLease() {
    EnsureCurlInitialized();
    thread_local ThreadHandle thread_handle;
    if (!thread_handle.busy && thread_handle.handle != nullptr) {
      shared_ = &thread_handle;
      shared_->busy = true;
      curl_easy_reset(shared_->handle);
      handle_ = shared_->handle;
    } else {
      handle_ = curl_easy_init();
    }
  }
  ~HandleLease() {
    if (shared_ != nullptr) {
      shared_->busy = false;
    } else if (handle_ != nullptr) {
      curl_easy_cleanup(handle_);
    }
  }
  HandleLease(const HandleLease&) = delete;
  HandleLease& operator=(const HandleLease&) = delete;
  CURL* get() const { return handle_; }

 private:
  ThreadHandle* shared_ = nullptr;
  CURL* handle_ = nullptr;
};

class HeaderList {
 public:
  ~HeaderList() { curl_slist_free_all(list_); }
  void Add(const std::string& line) { list_ = curl_slist_append(list_, line.c_str()); }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// Everything the libcurl callbacks of one exchange write into.
struct Exchange {
  HttpHeaders headers;
  std::string body;
  size_t max_body_bytes = 0;
  bool too_large = false;
  bool request_started = false;  // libcurl began sending the request headers
  std::string_view method;       // for the crash points of the request

  // Streaming only.
  CURL* handle = nullptr;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  const StreamLimits* limits = nullptr;
  size_t streamed_bytes = 0;
  std::string error_body;
  bool byte_limit_reached = false;
  bool receiver_done = false;
  bool stopped = false;
  bool receiver_threw = false;
};

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  line = Trim(line);
  // A new status line starts a new header block (after "100 Continue", or a proxy's CONNECT
  // answer).
  if (line.substr(0, 5) == "HTTP/") {
    RequestCrashPoint(kCrashMidRequest, ex->method);
    ex->headers.Clear();
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    ex->headers.Add(std::string(Trim(line.substr(0, colon))),
                    std::string(Trim(line.substr(colon + 1))));
  }
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
  if (ex->body.size() + n > ex->max_body_bytes) {
    ex->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  ex->body.append(data, n);
  return n;
}

size_t OnStreamData(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
  long code = 0;
  curl_easy_getinfo(ex->handle, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code > 299) {
    const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, ex->error_body.size());
    ex->error_body.append(data, std::min(room, n));
    return room >= n ? n : 0;
  }
  if (ex->limits->stop != nullptr && ex->limits->stop->load()) {
    ex->stopped = true;
    return 0;
  }
  size_t deliver = n;
  if (ex->streamed_bytes + n >= ex->limits->max_bytes) {
    deliver = ex->limits->max_bytes - ex->streamed_bytes;
    ex->byte_limit_reached = true;
  }
  bool more = true;
  try {
    if (deliver > 0) more = (*ex->on_data)(std::string_view(data, deliver));
  } catch (...) {
    ex->receiver_threw = true;
    return 0;
  }
  ex->streamed_bytes += deliver;
  if (!more) ex->receiver_done = true;
  return (more && !ex->byte_limit_reached) ? n : 0;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->limits != nullptr && ex->limits->stop != nullptr && ex->limits->stop->load()) {
    ex->stopped = true;
    return 1;  // abort the transfer
  }
  return 0;
}

// Only watches for the request going out; the verbose text itself is dropped (it holds headers,
// and so the Authorization token).
int OnDebug(CURL*, curl_infotype type, char*, size_t, void* user) {
  if (type == CURLINFO_HEADER_OUT) static_cast<Exchange*>(user)->request_started = true;
  return 0;
}

bool IsBodyMethod(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

std::string PathAndQuery(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return start == std::string::npos ? std::string() : url.substr(start);
}

// libcurl's own error text can quote the URL; strip everything but the host before showing it.
std::string SafeDetail(const char* error_buffer, const std::string& url) {
  std::vector<std::string> hide = {url};
  std::string path = PathAndQuery(url);
  if (path.size() > 1) hide.push_back(path);
  std::string text = Redact(error_buffer, hide);
  while (!text.empty() && (text.back() == '\n' || text.back() == '.'))
    text.pop_back();
  return text;
}

struct Configured {
  HeaderList headers;
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

void Configure(CURL* curl, const HttpRequest& request, const TransportOptions& options,
               Duration total_timeout, Exchange& ex, Configured& cfg) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_bundle.c_str());
  curl_easy_setopt(curl, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cfg.error_buffer);
  if (request.fresh_connection) curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);

  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "User-Agent")) has_user_agent = true;
    cfg.headers.Add(name + ": " + value);
  }
  if (!has_user_agent && !options.user_agent.empty()) {
    cfg.headers.Add("User-Agent: " + options.user_agent);
  }
  cfg.headers.Add("Expect:");  // no "100-continue" round trip before a body
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, cfg.headers.get());

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST")
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (IsBodyMethod(request.method) || !request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    }
  }

  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, OnDebug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &ex);
}

// Turns a libcurl failure into a message that says what failed, where, and after how long.
std::pair<Status, TransportFailure> DescribeFailure(CURLcode code, CURL* curl, const Exchange& ex,
                                                    const HttpRequest& request,
                                                    const TransportOptions& options,
                                                    Duration total_timeout,
                                                    const char* error_buffer) {
  const std::string host = HostOfUrl(request.url);
  const std::string exchange = request.method + " " + host;
  const std::string curl_text = curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return {Status::Unavailable("resolve " + host + ": host not found"),
              TransportFailure::kNotSent};
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {Status::Unavailable("resolve the proxy for " + host + ": host not found"),
              TransportFailure::kNotSent};
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      std::string why = os_errno != 0 ? std::strerror(static_cast<int>(os_errno)) : curl_text;
      return {Status::Unavailable("connect to " + host + ": " + why), TransportFailure::kNotSent};
    }
    case CURLE_OPERATION_TIMEDOUT:
      if (!ex.request_started) {
        Duration limit = std::min(options.connect_timeout, total_timeout);
        return {Status::DeadlineExceeded("connect to " + host + ": timed out after " +
                                         FormatDuration(limit)),
                TransportFailure::kNotSent};
      }
      return {Status::DeadlineExceeded(exchange + ": no complete response within " +
                                       FormatDuration(total_timeout)),
              TransportFailure::kTimedOut};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
      return {Status::Unavailable(
                  "TLS with " + host + ": " +
                  (error_buffer[0] != 0 ? SafeDetail(error_buffer, request.url) : curl_text)),
              TransportFailure::kNotSent};
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return {
          Status::InvalidArgument("invalid URL for " + (host.empty() ? "an HTTP request" : host) +
                                  " (only http and https URLs are accepted)"),
          TransportFailure::kNotSent};
    case CURLE_ABORTED_BY_CALLBACK:
      return {Status::Aborted(exchange + ": stopped"), TransportFailure::kAborted};
    case CURLE_WRITE_ERROR:
      if (ex.too_large) {
        return {Status::ResourceExhausted(exchange + ": response larger than " +
                                          std::to_string(options.max_body_bytes) + " bytes"),
                TransportFailure::kTooLarge};
      }
      break;
    case CURLE_GOT_NOTHING:
      return {
          Status::Unavailable(exchange + ": the server closed the connection without answering"),
          ex.request_started ? TransportFailure::kConnectionLost : TransportFailure::kNotSent};
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return {Status::Unavailable(exchange + ": connection lost before a complete response (" +
                                  curl_text + ")"),
              ex.request_started ? TransportFailure::kConnectionLost : TransportFailure::kNotSent};
    default:
      break;
  }
  std::string detail = error_buffer[0] != 0 ? SafeDetail(error_buffer, request.url) : curl_text;
  return {Status::Unavailable(exchange + ": " + detail),
          ex.request_started ? TransportFailure::kOther : TransportFailure::kNotSent};
}

}  // namespace

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [key, value] : fields_) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::string_view StreamEndName(StreamEnd end) {
  switch (end) {
    case StreamEnd::kEndOfBody:
      return "end of body";
    case StreamEnd::kByteLimit:
      return "byte limit";
    case StreamEnd::kTimeLimit:
      return "time limit";
    case StreamEnd::kStopped:
      return "stopped";
    case StreamEnd::kReceiverDone:
      return "receiver done";
  }
  return "unknown";
}

std::optional<TimePoint> ParseHttpDate(const std::string& text) {
  const time_t t = curl_getdate(text.c_str(), nullptr);
  if (t < 0) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

std::string HostOfUrl(const std::string& url) {
  EnsureCurlInitialized();
  CURLU* u = curl_url();
  if (u == nullptr) return "";
  std::string out;
  char* host = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    out = host;
    curl_free(host);
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
      out.append(":").append(port);
      curl_free(port);
    }
  }
  curl_url_cleanup(u);
  return out;
}

HttpTransport::HttpTransport(TransportOptions options) : options_(std::move(options)) {
  EnsureCurlInitialized();
}

HttpResult HttpTransport::Send(const HttpRequest& request) const {
  HttpResult result;
  HandleLease lease;
  CURL* curl = lease.get();
  if (curl == nullptr) {
    result.status = Status::Internal("libcurl could not create a handle");
    result.failure = TransportFailure::kNotSent;
    return result;
  }
  const Duration total_timeout = request.total_timeout.value_or(options_.total_timeout);
  Exchange ex;
  ex.max_body_bytes = options_.max_body_bytes;
  ex.method = request.method;
  Configured cfg;
  Configure(curl, request, options_, total_timeout, ex, cfg);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);

  CURLcode code = curl_easy_perform(curl);
  RequestCrashPoint(kCrashAfterRequest, request.method);
  if (code != CURLE_OK) {
    auto [status, failure] =
        DescribeFailure(code, curl, ex, request, options_, total_timeout, cfg.error_buffer);
    result.status = std::move(status);
    result.failure = failure;
    return result;
  }
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  result.response.status = static_cast<int>(http_status);
  result.response.headers = std::move(ex.headers);
  result.response.body = std::move(ex.body);
  return result;
}

StreamResult HttpTransport::Stream(const HttpRequest& request, const StreamLimits& limits,
                                   const std::function<bool(std::string_view)>& on_data) const {
  StreamResult result;
  HandleLease lease;
  CURL* curl = lease.get();
  if (curl == nullptr) {
    result.status = Status::Internal("libcurl could not create a handle");
    result.failure = TransportFailure::kNotSent;
    return result;
  }
  Exchange ex;
  ex.handle = curl;
  ex.on_data = &on_data;
  ex.limits = &limits;
  Configured cfg;
  Configure(curl, request, options_, limits.max_duration, ex, cfg);
  // No Accept-Encoding: a compressing server may hold lines back until its buffer fills.
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnStreamData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ex);

  CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  result.http_status = static_cast<int>(http_status);
  result.headers = std::move(ex.headers);
  result.error_body = std::move(ex.error_body);
  result.body_bytes = ex.streamed_bytes;

  if (ex.receiver_threw) {
    result.status = Status::Internal("reading " + HostOfUrl(request.url) + ": the receiver failed");
    result.failure = TransportFailure::kAborted;
    return result;
  }
  const bool answered = http_status >= 200 && http_status <= 299;
  if (code == CURLE_OK) {
    result.end = StreamEnd::kEndOfBody;
  } else if (ex.byte_limit_reached) {
    result.end = StreamEnd::kByteLimit;
  } else if (ex.receiver_done) {
    result.end = StreamEnd::kReceiverDone;
  } else if (ex.stopped) {
    result.end = StreamEnd::kStopped;
  } else if (code == CURLE_OPERATION_TIMEDOUT && answered) {
    result.end = StreamEnd::kTimeLimit;
  } else if (code == CURLE_WRITE_ERROR && http_status > 0 && !answered) {
    result.end = StreamEnd::kEndOfBody;  // the error body was cut at its cap
  } else {
    auto [status, failure] =
        DescribeFailure(code, curl, ex, request, options_, limits.max_duration, cfg.error_buffer);
    result.status = std::move(status);
    result.failure = failure;
  }
  return result;
}

}  // namespace dynoherd::providers
