#include "metastore/placement/ewma_rate.h"

#include <algorithm>
#include <cmath>

namespace embers::metastore {
namespace {

// The factor a sum decays by over `elapsed_ms`.
double Decay(int64_t elapsed_ms, int64_t half_life_ms) {
  if (elapsed_ms <= 0) return 1;
  return std::exp2(-static_cast<double>(elapsed_ms) / static_cast<double>(half_life_ms));
}

}  // namespace

void EwmaRate::Add(double amount, int64_t now_ms, int64_t half_life_ms) {
  half_life_ms = std::max<int64_t>(1, half_life_ms);
  if (last_ms_ != 0) sum_ *= Decay(now_ms - last_ms_, half_life_ms);
  sum_ += amount;
  last_ms_ = std::max(last_ms_, now_ms);
}

double EwmaRate::RateAt(int64_t now_ms, int64_t half_life_ms) const {
  half_life_ms = std::max<int64_t>(1, half_life_ms);
  return sum_ * Decay(now_ms - last_ms_, half_life_ms) * std::log(2.0) * 1000.0 /
         static_cast<double>(half_life_ms);
}

}  // namespace embers::metastore
