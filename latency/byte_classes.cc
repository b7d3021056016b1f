#include "latency/byte_classes.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define DYNOHERD_X86 1
#endif

namespace dynoherd::latency::detail {
namespace {

size_t BlockCount(const char* p, const char* end) {
  const size_t bytes = std::min<size_t>(static_cast<size_t>(end - p), 64 * kClassifiedBlocks);
  return (bytes + 63) / 64;
}

void ClassifyPortable(const char* p, const char* end, ByteClasses& out) {
  out.blocks = BlockCount(p, end);
  out.backslash = false;
  for (size_t b = 0; b < out.blocks; ++b) {
    uint64_t equals = 0, quotes = 0;
    for (size_t i = 0; i < 64 && p + 64 * b + i < end; ++i) {
      const char c = p[64 * b + i];
      equals |= static_cast<uint64_t>(c == '=') << i;
      quotes |= static_cast<uint64_t>(c == '"') << i;
      out.backslash |= c == '\\';
    }
    out.equals[b] = equals;
    out.quotes[b] = quotes;
  }
}

#if DYNOHERD_X86

// One 16-byte chunk at bit `shift` of its block; `skip` leading bytes of it were already counted.
inline void Sse2Chunk(__m128i chunk, int shift, int skip, uint64_t& equals, uint64_t& quotes,
                      __m128i& backslashes) {
  const auto bits = [&](char c) {
    const int hits = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8(c)));
    return (static_cast<uint64_t>(static_cast<uint16_t>(hits)) >> skip) << shift;
  };
  equals |= bits('=');
  quotes |= bits('"');
  // Bytes counted twice do no harm here: any backslash at all is what matters.
  backslashes = _mm_or_si128(backslashes, _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\')));
}

void ClassifySse2(const char* begin, const char* p, const char* end, ByteClasses& out) {
  out.blocks = BlockCount(p, end);
  __m128i backslashes = _mm_setzero_si128();
  for (size_t b = 0; b < out.blocks; ++b) {
    uint64_t equals = 0, quotes = 0;
    for (int i = 0; i < 4; ++i) {
      const char* chunk = p + 64 * b + 16 * i;
      if (chunk >= end) break;
      const size_t available = static_cast<size_t>(end - chunk);
      if (available >= 16) {
        Sse2Chunk(_mm_loadu_si128(reinterpret_cast<const __m128i*>(chunk)), 16 * i, 0, equals,
                  quotes, backslashes);
      } else if (end - begin >= 16) {
        Sse2Chunk(_mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16)), 16 * i,
                  static_cast<int>(16 - available), equals, quotes, backslashes);
      } else {
        alignas(16) char tiny[16] = {};
        std::memcpy(tiny, chunk, available);
        Sse2Chunk(_mm_load_si128(reinterpret_cast<const __m128i*>(tiny)), 16 * i, 0, equals, quotes,
                  backslashes);
      }
    }
    out.equals[b] = equals;
    out.quotes[b] = quotes;
  }
  out.backslash = _mm_movemask_epi8(backslashes) != 0;
}

__attribute__((target("avx2"))) void ClassifyAvx2(const char* begin, const char* p, const char* end,
                                                  ByteClasses& out) {
  out.blocks = BlockCount(p, end);
  __m256i backslashes = _mm256_setzero_si256();
  const __m256i equal_bytes = _mm256_set1_epi8('=');
  const __m256i quote_bytes = _mm256_set1_epi8('"');
  const __m256i backslash_bytes = _mm256_set1_epi8('\\');
  for (size_t b = 0; b < out.blocks; ++b) {
    uint64_t equals = 0, quotes = 0;
    for (int i = 0; i < 2; ++i) {
      const char* half = p + 64 * b + 32 * i;
      if (half >= end) break;
      const size_t available = static_cast<size_t>(end - half);
      __m256i chunk;
      int skip = 0;
      if (available >= 32) {
        chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half));
      } else if (end - begin >= 32) {
        chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(end - 32));
        skip = static_cast<int>(32 - available);
      } else {
        alignas(32) char tiny[32] = {};
        std::memcpy(tiny, half, available);
        chunk = _mm256_load_si256(reinterpret_cast<const __m256i*>(tiny));
      }
      const auto equal_hits =
          static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(chunk, equal_bytes)));
      const auto quote_hits =
          static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(chunk, quote_bytes)));
      equals |= (static_cast<uint64_t>(equal_hits) >> skip) << (32 * i);
      quotes |= (static_cast<uint64_t>(quote_hits) >> skip) << (32 * i);
      backslashes = _mm256_or_si256(backslashes, _mm256_cmpeq_epi8(chunk, backslash_bytes));
    }
    out.equals[b] = equals;
    out.quotes[b] = quotes;
  }
  out.backslash = _mm256_movemask_epi8(backslashes) != 0;
}

__attribute__((target("avx512f,avx512bw"))) void ClassifyAvx512(const char* p, const char* end,
                                                                ByteClasses& out) {
  out.blocks = BlockCount(p, end);
  const __m512i equal_bytes = _mm512_set1_epi8('=');
  const __m512i quote_bytes = _mm512_set1_epi8('"');
  const __m512i backslash_bytes = _mm512_set1_epi8('\\');
  uint64_t backslashes = 0;
  for (size_t b = 0; b < out.blocks; ++b) {
    const char* block = p + 64 * b;
    const size_t available = static_cast<size_t>(end - block);
    // A masked load never touches the bytes it leaves out, so the tail needs no copy.
    const __mmask64 valid = available >= 64 ? ~__mmask64{0} : (__mmask64{1} << available) - 1;
    const __m512i chunk = _mm512_maskz_loadu_epi8(valid, block);
    out.equals[b] = _mm512_mask_cmpeq_epi8_mask(valid, chunk, equal_bytes);
    out.quotes[b] = _mm512_mask_cmpeq_epi8_mask(valid, chunk, quote_bytes);
    backslashes |= _mm512_mask_cmpeq_epi8_mask(valid, chunk, backslash_bytes);
  }
  out.backslash = backslashes != 0;
}

#endif  // DYNOHERD_X86

}  // namespace

void Classify(Isa isa, const char* begin, const char* p, const char* end, ByteClasses& out) {
#if DYNOHERD_X86
  switch (isa) {
    case Isa::kAvx512:
      return ClassifyAvx512(p, end, out);
    case Isa::kAvx2:
      return ClassifyAvx2(begin, p, end, out);
    case Isa::kSse2:
      return ClassifySse2(begin, p, end, out);
    case Isa::kPortable:
      break;
  }
#else
  (void)isa;
  (void)begin;
#endif
  ClassifyPortable(p, end, out);
}

Isa BestIsa() {
#if DYNOHERD_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2")) return Isa::kAvx2;
  return Isa::kSse2;
#else
  return Isa::kPortable;
#endif
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> isas = {Isa::kPortable};
#if DYNOHERD_X86
  isas.push_back(Isa::kSse2);
  const Isa best = BestIsa();
  if (best == Isa::kAvx2 || best == Isa::kAvx512) isas.push_back(Isa::kAvx2);
  if (best == Isa::kAvx512) isas.push_back(Isa::kAvx512);
#endif
  return isas;
}

}  // namespace dynoherd::latency::detail
