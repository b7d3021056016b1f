// Logplex HTTPS drain bodies (Content-Type application/logplex-1): octet-counted RFC 5424 frames,
// "<count> SP <message>" repeated, where the message looks like
// "<158>1 2012-11-30T06:45:29+00:00 host heroku router - at=info ...". Every count is checked
// against the bytes really there; a bad frame is reported and skipped, never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynoherd::latency {

// The header fields of one RFC 5424 message; views into the parsed text.
struct SyslogMessage {
  int priority = 0;
  std::string_view timestamp;  // as written; ParseTimestamp() gives a TimePoint
  std::string_view hostname;
  std::string_view app_name;  // "heroku" for platform messages, "app" for the app's output
  std::string_view proc_id;   // "router", "web.1", ...
  std::string_view msg_id;
  std::string_view message;  // after the header, without trailing "\r\n"
};

// "<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG". Logplex writes a single "-"
// where RFC 5424 has MSGID and STRUCTURED-DATA; both layouts are accepted. False when the header
// is not there (the message fields are then unspecified).
bool ParseSyslogMessage(std::string_view text, SyslogMessage& out);

// heroku/router: a router line.
inline bool IsRouterMessage(const SyslogMessage& m) {
  return m.app_name == "heroku" && m.proc_id == "router";
}

enum class FrameError : uint8_t {
  kBadCount,          // the frame does not start with "<digits> "
  kCountTooLarge,     // more than max_frame_bytes: never buffered, never trusted
  kTruncated,         // the count runs past the end of the body
  kFrameInsideFrame,  // a frame header inside a frame: the outer count was wrong
  kBadMessage,        // the frame's bytes are not an RFC 5424 message
};
std::string_view Describe(FrameError error);

struct FramingProblem {
  size_t offset = 0;  // byte offset of the offending frame in the body
  FrameError error = FrameError::kBadCount;
  std::string ToString() const;  // "byte 120: octet count larger than the body"
};

struct LogplexFrame {
  size_t offset = 0;  // byte offset of the frame's count in the body
  SyslogMessage message;
};

inline constexpr size_t kDefaultMaxFrameBytes = 64 * 1024;

// Walks the frames of a body one at a time; views point into the body. After a problem the reader
// resynchronises: past the frame when its count was sound, else at the next line that starts
// like a frame ("<digits> <").
class LogplexReader {
 public:
  enum class Step {
    kFrame,       // `frame` is set
    kProblem,     // `problem` is set; call Next() again to go on
    kIncomplete,  // (only when !final) the rest may start a frame: feed it again with more bytes
    kEnd,
  };

  // `final`: the body is complete, so a frame cut short is kTruncated rather than kIncomplete.
  // `resyncing`: the body continues one that ended inside garbage (see resyncing()).
  LogplexReader(std::string_view body, bool final, size_t max_frame_bytes = kDefaultMaxFrameBytes,
                bool resyncing = false)
      : body_(body), final_(final), max_frame_bytes_(max_frame_bytes), resyncing_(resyncing) {}

  Step Next(LogplexFrame& frame, FramingProblem& problem);

  // Bytes fully handled; after kIncomplete the caller keeps body[consumed()...] for later.
  size_t consumed() const { return position_; }
  // True when the body ended while skipping garbage after a problem: a stream passes this to the
  // reader of its next bytes, so a problem cut by a chunk boundary is reported once.
  bool resyncing() const { return resyncing_; }

 private:
  Step Fail(size_t offset, FrameError error, size_t resume, bool resync, FramingProblem& problem);
  // Moves to the next line that starts like a frame; false when the body ends first.
  bool Resync(Step& stop);

  std::string_view body_;
  bool final_;
  size_t max_frame_bytes_;
  bool resyncing_;
  size_t position_ = 0;
};

// A whole drain body: the frames it could read and what went wrong, in body order.
struct LogplexBody {
  std::vector<LogplexFrame> frames;
  std::vector<FramingProblem> problems;
};
LogplexBody ParseLogplexBody(std::string_view body, size_t max_frame_bytes = kDefaultMaxFrameBytes);

// True when `text` starts like a logplex frame ("<digits> <"): how input is told apart from lines.
bool LooksLikeLogplexFrame(std::string_view text);

}  // namespace dynoherd::latency
