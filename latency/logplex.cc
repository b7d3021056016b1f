#include "latency/logplex.h"

#include <cstring>

#include "common/ascii.h"

namespace dynoherd::latency {
namespace {

// Seven digits already exceed any sane frame; refusing longer counts also rules out overflow.
constexpr size_t kMaxCountDigits = 7;

enum class Match { kNo, kYes, kNeedMore };

// Does `text` start with a frame header, "<digits> <digit"? kNeedMore when it is a proper prefix.
Match MatchFrameHeader(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && IsAsciiDigit(text[i])) {
    if (++i > kMaxCountDigits) return Match::kNo;
  }
  if (i == text.size()) return Match::kNeedMore;
  if (i == 0 || text[i] != ' ') return Match::kNo;
  if (++i == text.size()) return Match::kNeedMore;
  if (text[i] != '<') return Match::kNo;
  if (++i == text.size()) return Match::kNeedMore;
  return IsAsciiDigit(text[i]) ? Match::kYes : Match::kNo;
}

// The next space-delimited header field of `rest`, which moves past it and its space.
bool TakeField(std::string_view& rest, std::string_view& field) {
  size_t space = rest.find(' ');
  if (space == 0 || space == std::string_view::npos) return false;
  field = rest.substr(0, space);
  rest.remove_prefix(space + 1);
  return true;
}

}  // namespace

bool ParseSyslogMessage(std::string_view text, SyslogMessage& out) {
  if (text.size() < 3 || text[0] != '<') return false;
  size_t i = 1;
  int priority = 0;
  while (i < text.size() && IsAsciiDigit(text[i]) && i <= 3)
    priority = priority * 10 + (text[i++] - '0');
  if (i == 1 || i >= text.size() || text[i] != '>' || priority > 191) return false;
  ++i;
  size_t version_start = i;
  while (i < text.size() && IsAsciiDigit(text[i]) && i - version_start < 2)
    ++i;
  if (i == version_start || i >= text.size() || text[i] != ' ') return false;
  out.priority = priority;
  std::string_view rest = text.substr(i + 1);
  if (!TakeField(rest, out.timestamp) || !TakeField(rest, out.hostname) ||
      !TakeField(rest, out.app_name) || !TakeField(rest, out.proc_id)) {
    return false;
  }
  // MSGID may end the message (an empty MSG): then there is no space after it.
  if (!TakeField(rest, out.msg_id)) {
    if (rest.empty() || rest.find(' ') == 0) return false;
    out.msg_id = rest;
    rest = {};
  }
  // RFC 5424 STRUCTURED-DATA: "-" or "[...]" elements; logplex usually leaves it out entirely.
  if (rest == "-" || rest.starts_with("- ")) {
    rest.remove_prefix(rest.size() == 1 ? 1 : 2);
  } else {
    while (rest.starts_with('[')) {
      size_t k = 1;
      while (k < rest.size() && rest[k] != ']')
        k += rest[k] == '\\' ? 2 : 1;
      if (k >= rest.size()) return false;
      rest.remove_prefix(k + 1);
      if (rest.starts_with(' ')) {
        rest.remove_prefix(1);
        break;
      }
    }
  }
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r'))
    rest.remove_suffix(1);
  out.message = rest;
  return true;
}

std::string_view Describe(FrameError error) {
  switch (error) {
    case FrameError::kBadCount:
      return "frame does not start with an octet count";
    case FrameError::kCountTooLarge:
      return "octet count larger than the frame size limit";
    case FrameError::kTruncated:
      return "octet count runs past the end of the body";
    case FrameError::kFrameInsideFrame:
      return "frame header inside a frame (wrong octet count)";
    case FrameError::kBadMessage:
      return "frame is not an RFC 5424 message";
  }
  return "unknown framing error";
}

std::string FramingProblem::ToString() const {
  return "byte " + std::to_string(offset) + ": " + std::string(Describe(error));
}

bool LooksLikeLogplexFrame(std::string_view text) {
  return MatchFrameHeader(text) == Match::kYes;
}

bool LogplexReader::Resync(Step& stop) {
  while (position_ < body_.size()) {
    const void* hit = std::memchr(body_.data() + position_, '\n', body_.size() - position_);
    if (!hit) break;
    const size_t newline = static_cast<size_t>(static_cast<const char*>(hit) - body_.data());
    const Match m = MatchFrameHeader(body_.substr(newline + 1));
    if (m == Match::kYes) {
      position_ = newline + 1;
      resyncing_ = false;
      return true;
    }
    if (m == Match::kNeedMore && !final_) {
      position_ = newline;  // keep the newline: the next bytes decide
      stop = Step::kIncomplete;
      return false;
    }
    position_ = newline + 1;
  }
  position_ = body_.size();
  stop = Step::kEnd;
  return false;
}

LogplexReader::Step LogplexReader::Fail(size_t offset, FrameError error, size_t resume, bool resync,
                                        FramingProblem& problem) {
  problem.offset = offset;
  problem.error = error;
  position_ = resume;
  resyncing_ = resync;
  return Step::kProblem;
}

LogplexReader::Step LogplexReader::Next(LogplexFrame& frame, FramingProblem& problem) {
  if (resyncing_) {
    Step stop = Step::kEnd;
    if (!Resync(stop)) return stop;
  }
  // Tolerate line ends between frames: some senders count the message without its newline.
  while (position_ < body_.size() && (body_[position_] == '\n' || body_[position_] == '\r')) {
    ++position_;
  }
  if (position_ == body_.size()) return Step::kEnd;
  const size_t start = position_;
  size_t i = start;
  size_t count = 0;
  while (i < body_.size() && IsAsciiDigit(body_[i]) && i - start < kMaxCountDigits + 1) {
    count = count * 10 + static_cast<size_t>(body_[i] - '0');
    ++i;
  }
  const size_t digits = i - start;
  if (digits > kMaxCountDigits)
    return Fail(start, FrameError::kCountTooLarge, start, true, problem);
  if (i == body_.size()) {
    if (!final_ && digits > 0) return Step::kIncomplete;
    return Fail(start, digits ? FrameError::kTruncated : FrameError::kBadCount, body_.size(), false,
                problem);
  }
  if (digits == 0 || body_[i] != ' ')
    return Fail(start, FrameError::kBadCount, start, true, problem);
  if (count > max_frame_bytes_)
    return Fail(start, FrameError::kCountTooLarge, start, true, problem);
  const size_t message_start = i + 1;
  if (count > body_.size() - message_start) {
    if (!final_) return Step::kIncomplete;
    return Fail(start, FrameError::kTruncated, message_start, true, problem);
  }
  const std::string_view message = body_.substr(message_start, count);
  // A frame header right at the start, or after a newline inside the message, means the count
  // swallowed (part of) another frame. Resume at the inner header, which has its own count.
  if (MatchFrameHeader(message) == Match::kYes) {
    return Fail(start, FrameError::kFrameInsideFrame, message_start, false, problem);
  }
  for (size_t k = message.find('\n'); k != std::string_view::npos && k + 1 < message.size();
       k = message.find('\n', k + 1)) {
    if (MatchFrameHeader(message.substr(k + 1)) == Match::kYes) {
      return Fail(start, FrameError::kFrameInsideFrame, message_start + k + 1, false, problem);
    }
  }
  position_ = message_start + count;
  if (!ParseSyslogMessage(message, frame.message)) {
    return Fail(start, FrameError::kBadMessage, position_, false, problem);
  }
  frame.offset = start;
  return Step::kFrame;
}

LogplexBody ParseLogplexBody(std::string_view body, size_t max_frame_bytes) {
  LogplexBody result;
  LogplexReader reader(body, /*final=*/true, max_frame_bytes);
  LogplexFrame frame;
  FramingProblem problem;
  for (;;) {
    switch (reader.Next(frame, problem)) {
      case LogplexReader::Step::kFrame:
        result.frames.push_back(frame);
        break;
      case LogplexReader::Step::kProblem:
        result.problems.push_back(problem);
        break;
      case LogplexReader::Step::kIncomplete:  // not produced for a final body
      case LogplexReader::Step::kEnd:
        return result;
    }
  }
}

}  // namespace dynoherd::latency
