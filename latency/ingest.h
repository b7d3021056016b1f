// From bytes to router lines: a stream in any chunking (a log session, `dynoherd analyze` reading
// stdin) or one logplex drain body. Pure: callers do the reading and decide the time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "latency/logplex.h"
#include "latency/router_line.h"

namespace dynoherd::latency {

struct IngestCounts {
  int64_t lines = 0;             // lines, or logplex frames, read
  int64_t router = 0;            // router lines parsed
  int64_t ignored = 0;           // not router lines: app output, platform messages, blank lines
  int64_t malformed = 0;         // router lines that could not be read, lines over the size limit
  int64_t framing_problems = 0;  // logplex framing errors; each loses one frame or more
  std::string first_problem;     // the first malformed line or framing problem, for messages
};

enum class InputFormat {
  kAuto,     // logplex when the stream starts like a frame ("83 <40>1 ..."), else lines
  kLines,    // `heroku logs` / log session lines, or RFC 5424 lines
  kLogplex,  // octet-counted frames, as a drain receives them
};

struct StreamOptions {
  InputFormat format = InputFormat::kAuto;
  // Longer lines (and frames) are counted malformed and skipped; this bounds the memory a stream
  // without newlines can take.
  size_t max_line_bytes = kDefaultMaxFrameBytes;
};

// Splits a byte stream into lines or frames and parses the router lines among them. Only a line
// or frame cut by a chunk boundary is copied; everything else is parsed where it lies.
class RouterLogStream {
 public:
  explicit RouterLogStream(StreamOptions options = {})
      : options_(options), format_(options.format) {}

  // Reads the next `bytes` of the stream and returns the router lines it completed. The lines
  // point into `bytes` and into the stream: valid until the next call, while `bytes` lives.
  std::span<const RouterLine> Feed(std::string_view bytes);
  // End of the stream: the last line even without a newline; a frame cut short is a problem.
  std::span<const RouterLine> Finish();

  const IngestCounts& counts() const { return counts_; }
  InputFormat format() const { return format_; }  // kAuto until the first bytes decided it

 private:
  bool Decide(bool final);  // sets format_ from pending_; false: not enough bytes yet
  void Dispatch(std::string_view bytes, bool final);
  void FeedLines(std::string_view bytes);
  void FeedFrames(std::string_view bytes, bool final);
  // Reads frames from `buffer` (stream offset `base`) until its end or an incomplete frame;
  // stops once `stop_after` bytes are consumed. Returns the bytes consumed.
  size_t ReadFrames(std::string_view buffer, bool final, uint64_t base, size_t stop_after);
  void ProcessLine(std::string_view line);
  RouterLine& NextSlot();
  std::span<const RouterLine> Batch() const { return {batch_.data(), batch_size_}; }
  void LineTooLong();
  void Problem(std::string text);

  StreamOptions options_;
  InputFormat format_;
  IngestCounts counts_;
  RouterLineParser parser_;
  // Router lines of the current call: the first batch_size_ of batch_, whose slots are reused
  // from call to call (parsing overwrites a slot; only a router line keeps it).
  std::vector<RouterLine> batch_;
  size_t batch_size_ = 0;
  std::string pending_;      // first bytes, while the format is undecided
  std::string first_bytes_;  // pending_ once decided; batch_ may point into it
  std::string carry_;        // a line or frame cut by the end of the last chunk
  std::string assembled_;    // carry_ completed by the next chunk; batch_ may point into it
  bool skipping_long_line_ = false;
  bool resyncing_ = false;      // a logplex stream is skipping garbage up to the next frame
  uint64_t stream_offset_ = 0;  // of the chunk being read, for framing messages
};

// One drain POST body read at once (its end is final: a frame cut short is a problem).
struct DrainBatch {
  std::vector<RouterLine> router_lines;  // point into the body
  std::vector<FramingProblem> problems;
  IngestCounts counts;  // counts.lines: frames read
};
DrainBatch ReadDrainBody(std::string_view body, size_t max_frame_bytes = kDefaultMaxFrameBytes);

}  // namespace dynoherd::latency
