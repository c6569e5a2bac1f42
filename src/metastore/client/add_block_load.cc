#include "metastore/client/add_block_load.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>

namespace embers::metastore {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

AddBlockLoad::AddBlockLoad(MetastoreClient* client, size_t count,
                           std::function<v1::AddBlockRequest(size_t)> request)
    : client_(client), request_(std::move(request)), calls_(count) {}

void AddBlockLoad::Run(int concurrency) {
  const int64_t start = SteadyNowNs();
  if (!calls_.empty()) {
    for (int i = 0; i < concurrency; i++) Next();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return finished_ == calls_.size(); });
  }
  elapsed_s_ = static_cast<double>(SteadyNowNs() - start) / 1e9;
}

void AddBlockLoad::RunAtRate(double per_second, int max_in_flight) {
  const int64_t start = SteadyNowNs();
  for (size_t i = 0; i < calls_.size(); i++) {
    const int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / per_second);
    const int64_t now = SteadyNowNs();
    if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < max_in_flight; });
      in_flight_++;
    }
    Send(i, /*chain=*/false);
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return finished_ == calls_.size(); });
  elapsed_s_ = static_cast<double>(SteadyNowNs() - start) / 1e9;
}

void AddBlockLoad::Next() {
  const size_t i = next_++;
  if (i < calls_.size()) Send(i, /*chain=*/true);
}

void AddBlockLoad::Send(size_t i, bool chain) {
  auto request = std::make_shared<v1::AddBlockRequest>(request_(i));
  auto response = std::make_shared<v1::AddBlockResponse>();
  calls_[i].sent_ns = SteadyNowNs();
  client_->AddBlock(CallContext{}, *request, response.get(),
                    [this, i, chain, request, response](absl::Status s) {
                      calls_[i].done_ns = SteadyNowNs();
                      if (!s.ok()) failures_++;
                      calls_[i].status = std::move(s);
                      if (chain) Next();
                      std::lock_guard<std::mutex> lock(mu_);
                      in_flight_--;
                      ++finished_;
                      cv_.notify_all();
                    });
}

LatencySummary Summarize(std::vector<double> ms) {
  LatencySummary s;
  s.count = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  };
  s.p50 = at(0.5);
  s.p90 = at(0.9);
  s.p99 = at(0.99);
  s.max = ms.back();
  return s;
}

}  // namespace embers::metastore
