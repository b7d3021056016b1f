#include "latency/ingest.h"

#include <cstring>

namespace dynoherd::latency {
namespace {

// A frame header is at most 7 digits and a space; a frame cut by a chunk boundary is complete
// within this many bytes of the next chunk.
constexpr size_t kFrameHeaderBytes = 8;
// Leading blank lines are kept while the format is undecided; past this, it is lines.
constexpr size_t kMaxUndecidedBytes = 4096;

// The newlines of a buffer in order. memchr is vectorised; a scanner of AVX-512 newline masks
// over 512-byte batches measured slower, lines being a few hundred bytes.
struct NewlineFinder {
  const char* p;
  const char* end;
  const char* Next() {
    const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (hit == nullptr) return nullptr;
    p = static_cast<const char*>(hit) + 1;
    return p - 1;
  }
};

// Counts one parsed line or frame; true for a router line. `where()` names it ("line 12") for
// the first problem, built only when needed.
template <typename Where>
bool Tally(IngestCounts& counts, LineKind kind, const RouterLine& parsed, Where where) {
  ++counts.lines;
  switch (kind) {
    case LineKind::kRouter:
      ++counts.router;
      return true;
    case LineKind::kIgnored:
      ++counts.ignored;
      return false;
    case LineKind::kMalformed:
      ++counts.malformed;
      if (counts.first_problem.empty()) {
        counts.first_problem = where() + ": " + std::string(parsed.problem);
      }
      return false;
  }
  return false;
}

void TallyFramingProblem(IngestCounts& counts, const FramingProblem& problem) {
  ++counts.framing_problems;
  if (counts.first_problem.empty()) counts.first_problem = problem.ToString();
}

}  // namespace

RouterLine& RouterLogStream::NextSlot() {
  if (batch_size_ == batch_.size()) batch_.emplace_back();
  return batch_[batch_size_];
}

void RouterLogStream::Problem(std::string text) {
  if (counts_.first_problem.empty()) counts_.first_problem = std::move(text);
}

void RouterLogStream::ProcessLine(std::string_view line) {
  RouterLine& parsed = NextSlot();
  const LineKind kind = parser_.ParseLine(line, parsed);
  if (Tally(counts_, kind, parsed, [&] { return "line " + std::to_string(counts_.lines); })) {
    ++batch_size_;
  }
}

void RouterLogStream::LineTooLong() {
  ++counts_.lines;
  ++counts_.malformed;
  Problem("line " + std::to_string(counts_.lines) + ": longer than " +
          std::to_string(options_.max_line_bytes) + " bytes");
}

void RouterLogStream::FeedLines(std::string_view bytes) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  NewlineFinder newlines{p, end};
  if (skipping_long_line_ || !carry_.empty()) {
    const char* newline = newlines.Next();
    if (newline == nullptr) {
      if (skipping_long_line_) return;
      if (carry_.size() + bytes.size() > options_.max_line_bytes) {
        LineTooLong();
        skipping_long_line_ = true;
        carry_.clear();
      } else {
        carry_.append(p, bytes.size());
      }
      return;
    }
    if (skipping_long_line_) {
      skipping_long_line_ = false;
    } else {
      assembled_.swap(carry_);
      carry_.clear();
      if (assembled_.size() + static_cast<size_t>(newline - p) > options_.max_line_bytes) {
        LineTooLong();
      } else {
        assembled_.append(p, static_cast<size_t>(newline - p));
        ProcessLine(assembled_);
      }
    }
    p = newline + 1;
  }
  for (const char* newline = newlines.Next(); newline != nullptr; newline = newlines.Next()) {
    const size_t size = static_cast<size_t>(newline - p);
    if (size > options_.max_line_bytes) {
      LineTooLong();
    } else {
      ProcessLine(std::string_view(p, size));
    }
    p = newline + 1;
  }
  if (static_cast<size_t>(end - p) > options_.max_line_bytes) {
    LineTooLong();
    skipping_long_line_ = true;
  } else {
    carry_.assign(p, static_cast<size_t>(end - p));
  }
}

size_t RouterLogStream::ReadFrames(std::string_view buffer, bool final, uint64_t base,
                                   size_t stop_after) {
  LogplexReader reader(buffer, final, options_.max_line_bytes, resyncing_);
  LogplexFrame frame;
  FramingProblem problem;
  while (reader.consumed() < stop_after) {
    LogplexReader::Step step = reader.Next(frame, problem);
    if (step == LogplexReader::Step::kEnd || step == LogplexReader::Step::kIncomplete) break;
    if (step == LogplexReader::Step::kProblem) {
      problem.offset += base;
      TallyFramingProblem(counts_, problem);
      continue;
    }
    RouterLine& parsed = NextSlot();
    const LineKind kind = parser_.ParseSyslog(frame.message, parsed);
    if (Tally(counts_, kind, parsed,
              [&] { return "frame at byte " + std::to_string(base + frame.offset); })) {
      ++batch_size_;
    }
  }
  resyncing_ = reader.resyncing();
  return reader.consumed();
}

void RouterLogStream::FeedFrames(std::string_view bytes, bool final) {
  size_t start = 0;
  if (!carry_.empty()) {
    // Complete the cut frame with just enough of the new chunk, then read the chunk in place.
    const size_t take = std::min(bytes.size(), options_.max_line_bytes + kFrameHeaderBytes);
    const size_t carried = carry_.size();
    assembled_.assign(carry_);
    assembled_.append(bytes.data(), take);
    carry_.clear();
    const bool all_taken = take == bytes.size();
    const size_t consumed = ReadFrames(assembled_, final && all_taken, stream_offset_ - carried,
                                       all_taken ? assembled_.size() : carried);
    if (consumed < carried || (all_taken && consumed < assembled_.size())) {
      // Still incomplete: keep the rest, which is bounded by the frame size limit.
      carry_.assign(assembled_, consumed);
      carry_.append(bytes.data() + take, bytes.size() - take);
      return;
    }
    start = consumed - carried;
  }
  std::string_view rest = bytes.substr(start);
  const size_t consumed = ReadFrames(rest, final, stream_offset_ + start, rest.size());
  carry_.assign(rest.substr(consumed));
}

void RouterLogStream::Dispatch(std::string_view bytes, bool final) {
  if (format_ == InputFormat::kLogplex) {
    FeedFrames(bytes, final);
  } else {
    FeedLines(bytes);
  }
  stream_offset_ += bytes.size();
}

bool RouterLogStream::Decide(bool final) {
  const size_t first = pending_.find_first_not_of("\r\n\t ");
  if (first == std::string::npos) {
    if (!final && pending_.size() <= kMaxUndecidedBytes) return false;
    format_ = InputFormat::kLines;
    return true;
  }
  const std::string_view head = std::string_view(pending_).substr(first);
  if (LooksLikeLogplexFrame(head)) {
    format_ = InputFormat::kLogplex;
    return true;
  }
  // A frame header is at most 10 bytes ("1234567 <1"); anything else is decided sooner.
  const bool could_be_frame = head.size() < kFrameHeaderBytes + 2 && head[0] >= '0' &&
                              head[0] <= '9' && head.find('\n') == std::string_view::npos;
  if (!final && could_be_frame) return false;
  format_ = InputFormat::kLines;
  return true;
}

std::span<const RouterLine> RouterLogStream::Feed(std::string_view bytes) {
  batch_size_ = 0;
  first_bytes_.clear();
  if (format_ != InputFormat::kAuto) {
    Dispatch(bytes, false);
    return Batch();
  }
  pending_.append(bytes);
  if (Decide(false)) {
    first_bytes_.swap(pending_);  // lives until the next call, like `bytes` would
    Dispatch(first_bytes_, false);
  }
  return Batch();
}

std::span<const RouterLine> RouterLogStream::Finish() {
  batch_size_ = 0;
  first_bytes_.clear();
  if (format_ == InputFormat::kAuto) {
    Decide(true);
    first_bytes_.swap(pending_);
    Dispatch(first_bytes_, false);
  }
  if (format_ == InputFormat::kLogplex) {
    if (!carry_.empty()) {
      assembled_.swap(carry_);
      carry_.clear();
      ReadFrames(assembled_, /*final=*/true, stream_offset_ - assembled_.size(), assembled_.size());
    }
  } else if (!skipping_long_line_ && !carry_.empty()) {
    assembled_.swap(carry_);
    carry_.clear();
    ProcessLine(assembled_);
  }
  return Batch();
}

DrainBatch ReadDrainBody(std::string_view body, size_t max_frame_bytes) {
  DrainBatch batch;
  LogplexReader reader(body, /*final=*/true, max_frame_bytes);
  RouterLineParser parser;
  LogplexFrame frame;
  FramingProblem problem;
  for (;;) {
    LogplexReader::Step step = reader.Next(frame, problem);
    if (step == LogplexReader::Step::kEnd || step == LogplexReader::Step::kIncomplete) break;
    if (step == LogplexReader::Step::kProblem) {
      TallyFramingProblem(batch.counts, problem);
      batch.problems.push_back(problem);
      continue;
    }
    RouterLine line;
    const LineKind kind = parser.ParseSyslog(frame.message, line);
    if (Tally(batch.counts, kind, line,
              [&] { return "frame at byte " + std::to_string(frame.offset); })) {
      batch.router_lines.push_back(line);
    }
  }
  return batch;
}

}  // namespace dynoherd::latency
