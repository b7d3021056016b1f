#include "common/time_zone.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

namespace dynoherd {
namespace {

TimePoint At(int64_t unix_seconds) {
  return TimePoint{} + std::chrono::seconds(unix_seconds);
}

std::string ReadZoneFile(const std::string& name) {
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "the tests need the tz database (Debian: tzdata) for " << name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TimeZone Load(const std::string& name) {
  Result<TimeZone> zone = TimeZone::FromTzif(name, ReadZoneFile(name));
  REQUIRE_MESSAGE(zone.ok(), zone.status().ToString());
  return *zone;
}

// glibc's reading of the same zone, as the reference: TZ set for the duration of a call.
struct GlibcZone {
  explicit GlibcZone(const std::string& name) {
    if (const char* old = std::getenv("TZ")) saved = old;
    setenv("TZ", (":" + name).c_str(), 1);
    tzset();
  }
  ~GlibcZone() {
    if (saved) {
      setenv("TZ", saved->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::tm Local(int64_t unix_seconds) const {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm;
  }
  std::optional<std::string> saved;
};

// Builds a TZif file from parts, for the cases the system's files do not show.
std::string Tzif(char version, const std::vector<int64_t>& times, const std::vector<uint8_t>& types,
                 const std::vector<int32_t>& offsets, const std::string& footer) {
  auto big = [](std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto block = [&](int time_bytes) {
    std::string out = "TZif";
    out.push_back(version);
    out.append(15, '\0');
    for (uint64_t count : {uint64_t{0}, uint64_t{0}, uint64_t{0}, uint64_t{times.size()},
                           uint64_t{offsets.size()}, uint64_t{4}}) {
      big(out, count, 4);
    }
    for (int64_t t : times)
      big(out, static_cast<uint64_t>(t), time_bytes);
    for (uint8_t type : types)
      out.push_back(static_cast<char>(type));
    for (int32_t offset : offsets) {
      big(out, static_cast<uint32_t>(offset), 4);
      out.push_back('\0');
      out.push_back('\0');
    }
    out.append("ABC", 4);  // the designations, NUL-terminated
    return out;
  };
  std::string file = block(4);
  if (version != '\0') file += block(8) + "\n" + footer + "\n";
  return file;
}

TEST_CASE("civil dates round-trip and know their weekdays") {
  CHECK(DaysFromCivil(1970, 1, 1) == 0);
  CHECK(DaysFromCivil(2000, 3, 1) == 11017);
  CHECK(DaysFromCivil(1969, 12, 31) == -1);
  CHECK(CivilFromUnixSeconds(0) == CivilTime{1970, 1, 1, 0, 0, 0, 4});
  CHECK(CivilFromUnixSeconds(-1) == CivilTime{1969, 12, 31, 23, 59, 59, 3});
  // 2026-03-29 is the last Sunday of March: Europe's switch to summer time.
  CHECK(CivilFromUnixSeconds(1774746000) == CivilTime{2026, 3, 29, 1, 0, 0, 0});
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const int64_t s = static_cast<int64_t>(rng() % 20000000000ULL) - 5000000000LL;
    const CivilTime c = CivilFromUnixSeconds(s);
    CHECK(DaysFromCivil(c.year, c.month, c.day) * 86400 + c.hour * 3600 + c.minute * 60 +
              c.second ==
          s);
  }
}

TEST_CASE("POSIX TZ strings: offsets west of Greenwich, rules by month, week and day") {
  Result<PosixTimeZoneRule> paris = ParsePosixTimeZone("CET-1CEST,M3.5.0,M10.5.0/3");
  REQUIRE(paris.ok());
  CHECK(paris->std_offset == 3600);
  CHECK(*paris->dst_offset == 7200);
  // 2030: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC.
  const int64_t start = DaysFromCivil(2030, 3, 31) * 86400 + 3600;
  const int64_t end = DaysFromCivil(2030, 10, 27) * 86400 + 3600;
  CHECK(paris->OffsetAt(start - 1) == 3600);
  CHECK(paris->OffsetAt(start) == 7200);
  CHECK(paris->OffsetAt(end - 1) == 7200);
  CHECK(paris->OffsetAt(end) == 3600);

  Result<PosixTimeZoneRule> kolkata = ParsePosixTimeZone("IST-5:30");
  REQUIRE(kolkata.ok());
  CHECK(kolkata->std_offset == 19800);
  CHECK(!kolkata->dst_offset);

  // Southern hemisphere: summer time spans New Year.
  Result<PosixTimeZoneRule> sydney = ParsePosixTimeZone("AEST-10AEDT,M10.1.0,M4.1.0/3");
  REQUIRE(sydney.ok());
  CHECK(sydney->OffsetAt(DaysFromCivil(2031, 1, 15) * 86400) == 39600);
  CHECK(sydney->OffsetAt(DaysFromCivil(2031, 7, 15) * 86400) == 36000);

  Result<PosixTimeZoneRule> quoted = ParsePosixTimeZone("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1");
  REQUIRE(quoted.ok());
  CHECK(quoted->std_offset == -10800);
  CHECK(quoted->dst_start.time == -7200);

  for (const char* bad :
       {"", "C-1", "CET", "CET-1CEST", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0", "CET-99", "CET-1 trailing", "<AB>1", "CET-1CEST,J0,J365"}) {
    INFO(bad);
    CHECK(!ParsePosixTimeZone(bad).ok());
  }
}

TEST_CASE("the system's zones read as glibc reads them, 1900 to 2100") {
  // Zones with every kind of history: European and American rules, the southern hemisphere, a
  // 30-minute summer shift (Lord Howe), quarter-hour offsets (Chatham, Kathmandu), negative
  // summer time in the data (Dublin), no summer time at all (Kolkata), a zone that moved across
  // the date line (Apia).
  const std::vector<std::string> zones = {
      "Europe/Paris",        "America/New_York", "America/Sao_Paulo", "Australia/Sydney",
      "Australia/Lord_Howe", "Pacific/Chatham",  "Asia/Kathmandu",    "Europe/Dublin",
      "Asia/Kolkata",        "Pacific/Apia",     "America/St_Johns",  "UTC"};
  std::mt19937_64 rng(19);
  const int64_t from = DaysFromCivil(1900, 1, 1) * 86400;
  const int64_t to = DaysFromCivil(2100, 1, 1) * 86400;
  for (const std::string& name : zones) {
    INFO(name);
    const TimeZone zone = Load(name);
    CHECK(zone.name() == name);
    GlibcZone glibc(name);
    int mismatches = 0;
    for (int i = 0; i < 20000 && mismatches < 5; ++i) {
      const int64_t s = from + static_cast<int64_t>(rng() % static_cast<uint64_t>(to - from));
      const std::tm tm = glibc.Local(s);
      const CivilTime c = zone.ToCivil(At(s));
      const bool same = c.year == tm.tm_year + 1900 && c.month == tm.tm_mon + 1 &&
                        c.day == tm.tm_mday && c.hour == tm.tm_hour && c.minute == tm.tm_min &&
                        c.second == tm.tm_sec && c.weekday == tm.tm_wday &&
                        zone.OffsetAt(At(s)).count() == tm.tm_gmtoff;
      if (!same) {
        ++mismatches;
        FAIL_CHECK("at " << s << ": offset " << zone.OffsetAt(At(s)).count() << ", glibc "
                         << tm.tm_gmtoff);
      }
    }
  }
}

TEST_CASE("summer time switches at the documented instants") {
  const TimeZone paris = Load("Europe/Paris");
  const int64_t switch_2026 = DaysFromCivil(2026, 3, 29) * 86400 + 3600;  // 01:00 UTC
  CHECK(paris.OffsetAt(At(switch_2026 - 1)).count() == 3600);
  CHECK(paris.OffsetAt(At(switch_2026)).count() == 7200);
  CHECK(paris.ToCivil(At(switch_2026 - 1)).hour == 1);
  CHECK(paris.ToCivil(At(switch_2026)).hour == 3);  // 02:00-03:00 never happens that day
  // After the file's last transition the footer's rule decides (2200 is past any table).
  const int64_t summer_2200 = DaysFromCivil(2200, 7, 1) * 86400;
  CHECK(paris.OffsetAt(At(summer_2200)).count() == 7200);
  const TimeZone new_york = Load("America/New_York");
  CHECK(new_york.OffsetAt(At(summer_2200)).count() == -4 * 3600);
  CHECK(new_york.ToCivil(At(DaysFromCivil(2026, 1, 5) * 86400 + 13 * 3600)).hour == 8);
}

TEST_CASE("TZif: version 1 files, footer-only files, and broken files") {
  // Version 1: 32-bit transitions, no footer; type 0 holds before the first transition.
  const std::string v1 = Tzif('\0', {1000}, {1}, {0, 3600}, "");
  Result<TimeZone> zone = TimeZone::FromTzif("Test/V1", v1);
  REQUIRE_MESSAGE(zone.ok(), zone.status().ToString());
  CHECK(zone->OffsetAt(At(999)).count() == 0);
  CHECK(zone->OffsetAt(At(1000)).count() == 3600);
  CHECK(zone->OffsetAt(At(5000000000LL)).count() == 3600);

  // A "slim" file: no transitions at all, everything from the footer.
  const std::string slim = Tzif('2', {}, {}, {3600}, "CET-1CEST,M3.5.0,M10.5.0/3");
  zone = TimeZone::FromTzif("Test/Slim", slim);
  REQUIRE_MESSAGE(zone.ok(), zone.status().ToString());
  CHECK(zone->OffsetAt(At(DaysFromCivil(2027, 7, 1) * 86400)).count() == 7200);
  CHECK(zone->OffsetAt(At(DaysFromCivil(2027, 1, 1) * 86400)).count() == 3600);

  const std::string good = Tzif('2', {1000, 2000}, {1, 0}, {0, 3600}, "UTC0");
  REQUIRE(TimeZone::FromTzif("Test/Good", good).ok());
  for (size_t cut :
       {size_t{0}, size_t{10}, size_t{44}, size_t{60}, good.size() - 8, good.size() - 1}) {
    INFO(cut);
    Result<TimeZone> broken = TimeZone::FromTzif("Test/Cut", good.substr(0, cut));
    REQUIRE(!broken.ok());
    CHECK(broken.status().message().find("time zone Test/Cut") != std::string::npos);
  }
  CHECK(!TimeZone::FromTzif("Test/Order", Tzif('2', {2000, 1000}, {1, 0}, {0, 3600}, "UTC0")).ok());
  CHECK(!TimeZone::FromTzif("Test/Type", Tzif('2', {1000}, {5}, {0, 3600}, "UTC0")).ok());
  CHECK(!TimeZone::FromTzif("Test/Footer", Tzif('2', {1000}, {1}, {0, 3600}, "nonsense")).ok());
  CHECK(!TimeZone::FromTzif("Test/Text", "# not a zone file").ok());
  std::string leap = Tzif('\0', {}, {}, {0}, "");
  leap[31] = 1;  // one leap second record
  Result<TimeZone> right = TimeZone::FromTzif("right/UTC", leap);
  REQUIRE(!right.ok());
  CHECK(right.status().message().find("leap seconds") != std::string::npos);
}

TEST_CASE("zone names that can name a file under the zone directory, and only those") {
  for (const char* ok : {"UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5",
                         "Etc/GMT-14", "America/Port-au-Prince"}) {
    CHECK_MESSAGE(IsTimeZoneName(ok), ok);
  }
  for (const char* bad : {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc", "Europe//Paris",
                          "Europe/", "Europe/Paris ", "Europe\\Paris", "a/./b"}) {
    CHECK_MESSAGE(!IsTimeZoneName(bad), bad);
  }
}

}  // namespace
}  // namespace dynoherd
