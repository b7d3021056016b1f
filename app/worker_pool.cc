#include "app/worker_pool.h"

namespace dynoherd::app {

WorkerPool::WorkerPool(size_t threads) {
  GrowTo(threads);
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkerPool::GrowTo(size_t threads) {
  std::lock_guard lock(mu_);
  while (threads_.size() < threads)
    threads_.emplace_back([this] { Work(); });
}

size_t WorkerPool::size() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace dynoherd::app
