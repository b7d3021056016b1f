// A small fixed set of threads that run submitted tasks in submission order. The daemon bounds
// what it submits (at most one pass per idle thread), so the queue never grows.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dynoherd::app {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  // Runs the tasks already submitted, then joins the threads. A task that never returns blocks
  // this forever: a process that gave up on one (`run` after its shutdown grace) exits instead.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);
  // Adds threads until there are `threads`; never removes any.
  void GrowTo(size_t threads);
  size_t size() const;

 private:
  void Work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dynoherd::app
