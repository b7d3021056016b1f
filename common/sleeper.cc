#include "common/sleeper.h"

namespace dynoherd {

bool SystemSleeper::Sleep(Duration d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return interrupted_; });
  return !interrupted_;
}

void SystemSleeper::Interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

bool ManualSleeper::Sleep(Duration d) {
  bool interrupted = false;
  {
    std::lock_guard lock(mu_);
    waits_.push_back(d);
    interrupted = interrupted_;
  }
  if (clock_ && !interrupted) clock_->Advance(d);
  cv_.notify_all();
  return !interrupted;
}

void ManualSleeper::Interrupt() {
  std::lock_guard lock(mu_);
  interrupted_ = true;
}

std::vector<Duration> ManualSleeper::waits() const {
  std::lock_guard lock(mu_);
  return waits_;
}

std::vector<Duration> ManualSleeper::WaitForWaits(size_t n,
                                                  std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return waits_.size() >= n; });
  return waits_;
}

}  // namespace dynoherd
