// The parser's first stage: which bytes of a message are '=', '"' or '\', as bit masks of
// 64-byte blocks, computed with the widest vector instructions the CPU has (AVX-512, AVX2, SSE2,
// or plain C++ elsewhere). Chosen once at startup from the CPU; the answers never differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dynoherd::latency::detail {

inline constexpr size_t kClassifiedBlocks = 8;  // 512 bytes per call

struct ByteClasses {
  size_t blocks = 0;                   // blocks filled: ceil(bytes / 64)
  uint64_t equals[kClassifiedBlocks];  // bit i of block b: byte 64 * b + i is '='
  uint64_t quotes[kClassifiedBlocks];  // ... is '"'
  bool backslash = false;              // any '\' among the bytes
};

enum class Isa { kPortable, kSse2, kAvx2, kAvx512 };

// Classifies [p, min(end, p + 512)). Reads nothing outside [begin, end), where begin <= p is the
// start of the message (short tails are loaded as the last vector of the message and shifted).
void Classify(Isa isa, const char* begin, const char* p, const char* end, ByteClasses& out);

// The fastest Isa this CPU runs; the ones it can run (for the tests that compare them).
Isa BestIsa();
std::vector<Isa> SupportedIsas();

}  // namespace dynoherd::latency::detail
