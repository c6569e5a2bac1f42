// PushSource: what the push runner (runner.h) sends. Two sources exist: Workload, the endless
// random mix of the write-path load test (-mode=push), and Dataset, the fixed, time-ordered set of
// profiles the query benchmark reads back (-mode=dataset). The runner only asks for the next
// request body and reports the profiles the server refused.
#ifndef EMBERS_CMD_LOADGEN_PUSH_SOURCE_H_
#define EMBERS_CMD_LOADGEN_PUSH_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace embers::loadgen {

// A push.v1.PushRequest ready to send.
struct PushBody {
  std::string bytes;              // serialized push.v1.PushRequest
  size_t profiles = 0;            // pprof profiles in it
  size_t uncompressed_pprof = 0;  // their total uncompressed pprof size
  std::vector<size_t> files;      // source-defined id of each profile (Workload: file index)
};

class PushSource {
 public:
  virtual ~PushSource() = default;

  // The next request, built at wall-clock time `now_nanos` with the caller's `rng`; a body with no
  // profiles ends the caller's connection (nothing left to send). Called from several threads.
  virtual PushBody Next(std::mt19937_64& rng, int64_t now_nanos) = 0;
  // The server refused profile `index` of `body` for good (a 4xx other than 408/429) with `reason`.
  virtual void Refused(const PushBody& body, size_t index, const std::string& reason) = 0;
  // Profiles per request, for the summary and for pacing with -rate.
  virtual int batch() const = 0;
  // One line describing what is pushed, for the summary.
  virtual std::string Describe() const = 0;
  // (what, why) for profiles or files the server refused, for the summary.
  virtual std::vector<std::pair<std::string, std::string>> Skipped() const = 0;
};

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_PUSH_SOURCE_H_
