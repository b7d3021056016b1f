// Writes realistic Heroku router log lines, as `heroku logs` prints them, for the benchmarks:
// several web dynos with lognormal service times (one of them a laggard), a few router errors,
// and noise (app output, dyno state changes, logplex notices). About 250 bytes a line.
//
//   router_log_gen [--lines N] [--dynos N] [--seed N] [--rate LINES_PER_SECOND] [--logplex]
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <string_view>

namespace {

struct Options {
  int64_t lines = 1'000'000;
  int dynos = 8;
  uint64_t seed = 42;
  int64_t rate = 200;  // lines per second of log time
  bool logplex = false;
};

bool ParseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--logplex") {
      options.logplex = true;
      continue;
    }
    if ((arg == "--lines" || arg == "--dynos" || arg == "--seed" || arg == "--rate") &&
        (v = value()) != nullptr) {
      char* end = nullptr;
      long long n = std::strtoll(v, &end, 10);
      if (*end != '\0' || n <= 0) {
        std::fprintf(stderr, "router_log_gen: %s needs a positive integer, got \"%s\"\n",
                     argv[i - 1], v);
        return false;
      }
      if (arg == "--lines") options.lines = n;
      if (arg == "--dynos") options.dynos = static_cast<int>(n);
      if (arg == "--seed") options.seed = static_cast<uint64_t>(n);
      if (arg == "--rate") options.rate = n;
      continue;
    }
    std::fprintf(
        stderr,
        "usage: router_log_gen [--lines N] [--dynos N] [--seed N] [--rate N] [--logplex]\n");
    return false;
  }
  return true;
}

const char* const kPaths[] = {"/",
                              "/api/v1/items",
                              "/api/v1/items/%u",
                              "/api/v1/orders/%u/lines?page=%u",
                              "/assets/application-%08x.css",
                              "/search?q=blue+shoes&page=%u",
                              "/account/settings",
                              "/webhooks/stripe"};
const char* const kMethods[] = {"GET", "GET", "GET", "POST", "GET", "GET", "PUT", "POST"};

void Timestamp(char* out, size_t size, int64_t micros) {
  // 2026-11-22T13:00:00 UTC plus `micros`.
  const int64_t base = 1795352400;
  time_t seconds = static_cast<time_t>(base + micros / 1'000'000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  std::snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros % 1'000'000));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, options)) return 2;
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  // Quiet dynos around 120 ms; the laggard (the last dyno) about three times slower.
  std::lognormal_distribution<double> service(std::log(120.0), 0.55);
  std::lognormal_distribution<double> laggard(std::log(360.0), 0.55);
  static char out[1 << 16];
  size_t used = 0;
  auto flush = [&] {
    std::fwrite(out, 1, used, stdout);
    used = 0;
  };
  char ts[64], path[128], body[512], message[640];
  for (int64_t i = 0; i < options.lines; ++i) {
    const int64_t micros = i * 1'000'000 / options.rate + static_cast<int64_t>(rng() % 1000);
    Timestamp(ts, sizeof ts, micros);
    const int dyno = static_cast<int>(rng() % static_cast<uint64_t>(options.dynos)) + 1;
    const double roll = uniform(rng);
    const char* source = "heroku";
    char process[32] = "router";
    if (roll < 0.05) {
      // App output from the dyno itself.
      source = "app";
      std::snprintf(process, sizeof process, "web.%d", dyno);
      std::snprintf(body, sizeof body,
                    "I, [2026-11-22T13:00:00.%06d #%d]  INFO -- : [%016" PRIx64
                    "] Completed 200 OK in %dms (Views: %d.1ms | ActiveRecord: %d.4ms | "
                    "Allocations: %d)",
                    static_cast<int>(micros % 1'000'000), 4 + dyno, rng(),
                    static_cast<int>(service(rng)), static_cast<int>(rng() % 40),
                    static_cast<int>(rng() % 30), static_cast<int>(rng() % 90000));
    } else if (roll < 0.055) {
      std::snprintf(process, sizeof process, "web.%d", dyno);
      std::snprintf(body, sizeof body, "State changed from starting to up");
    } else if (roll < 0.056) {
      std::snprintf(process, sizeof process, "logplex");
      std::snprintf(body, sizeof body,
                    "Error L10 (output buffer overflow): %d messages dropped since %s.",
                    static_cast<int>(rng() % 500), ts);
    } else {
      const unsigned pick = static_cast<unsigned>(rng() % 8);
      std::snprintf(path, sizeof path, kPaths[pick], static_cast<unsigned>(rng() % 100000),
                    static_cast<unsigned>(rng() % 20));
      const int connect = static_cast<int>(rng() % 3);
      const int service_ms = static_cast<int>(dyno == options.dynos ? laggard(rng) : service(rng));
      const uint64_t id = rng();
      char request_id[40];
      std::snprintf(request_id, sizeof request_id, "%08x-%04x-4%03x-a%03x-%012" PRIx64,
                    static_cast<unsigned>(id >> 32), static_cast<unsigned>(id & 0xffff),
                    static_cast<unsigned>((id >> 16) & 0xfff),
                    static_cast<unsigned>((id >> 28) & 0xfff),
                    static_cast<uint64_t>(rng() & 0xffffffffffffULL));
      const double error_roll = uniform(rng);
      if (error_roll < 0.002) {
        std::snprintf(body, sizeof body,
                      "at=error code=H12 desc=\"Request timeout\" method=%s path=\"%s\" "
                      "host=shop.herokuapp.com request_id=%s fwd=\"203.0.113.%d\" "
                      "dyno=web.%d connect=%dms service=30001ms status=503 bytes=0 "
                      "protocol=https",
                      kMethods[pick], path, request_id, static_cast<int>(rng() % 250), dyno,
                      connect);
      } else if (error_roll < 0.003) {
        std::snprintf(body, sizeof body,
                      "at=error code=H10 desc=\"App crashed\" method=%s path=\"%s\" "
                      "host=shop.herokuapp.com request_id=%s fwd=\"203.0.113.%d\" "
                      "dyno= connect= service= status=503 bytes= protocol=https",
                      kMethods[pick], path, request_id, static_cast<int>(rng() % 250));
      } else if (error_roll < 0.004) {
        std::snprintf(body, sizeof body,
                      "sock=backend at=error code=H13 desc=\"Connection closed without "
                      "response\" method=%s path=\"%s\" host=shop.herokuapp.com "
                      "request_id=%s fwd=\"203.0.113.%d\" dyno=web.%d connect=%dms "
                      "service=%dms status=503 bytes=0 protocol=https",
                      kMethods[pick], path, request_id, static_cast<int>(rng() % 250), dyno,
                      connect, service_ms);
      } else {
        std::snprintf(body, sizeof body,
                      "at=info method=%s path=\"%s\" host=shop.herokuapp.com "
                      "request_id=%s fwd=\"203.0.113.%d\" dyno=web.%d connect=%dms service=%dms "
                      "status=%d bytes=%d protocol=https",
                      kMethods[pick], path, request_id, static_cast<int>(rng() % 250), dyno,
                      connect, service_ms, pick == 7 ? 201 : 200,
                      static_cast<int>(rng() % 50000) + 200);
      }
    }
    int n;
    if (options.logplex) {
      int m = std::snprintf(message, sizeof message, "<158>1 %s host %s %s - %s\n", ts, source,
                            process, body);
      n = std::snprintf(out + used, sizeof out - used, "%d %s", m, message);
    } else {
      n = std::snprintf(out + used, sizeof out - used, "%s %s[%s]: %s\n", ts, source, process,
                        body);
    }
    used += static_cast<size_t>(n);
    if (used > sizeof out - 1024) flush();
  }
  flush();
  return std::fflush(stdout) == 0 ? 0 : 1;
}
