// StackSamples: the neutral output of every legacy /ingest text and binary parser.
//
// Pyroscope's "og" formats (folded/groups, lines, trie, tree, speedscope) all describe the same
// thing: a set of call stacks, each with one integer value. The parsers in this directory turn
// their input into this flat structure and nothing else; the /ingest handler then attaches the
// profile type (profile_kind.h) and converts it to a single-sample-type pprof profile.
//
// Layout (all flat arrays, no per-sample allocation):
//   frame names   one copy of each distinct name, addressed by a dense uint32 frame id;
//   stacks        sample i's frame ids are stack_frames[stack_offsets[i] .. stack_offsets[i+1]),
//                 ROOT FIRST (pprof wants leaf first: reverse when building locations);
//   values        values[i] > 0 for every sample; identical stacks are merged (values summed).
//
// Samples with a value of zero and samples with an empty stack are dropped, as Pyroscope does when
// it turns its tree into pprof. The frame table may hold names no sample refers to (speedscope's
// shared frame table is taken whole), so a converter should map only the frames it meets.
#ifndef EMBERS_INGEST_LEGACY_STACK_SAMPLES_H_
#define EMBERS_INGEST_LEGACY_STACK_SAMPLES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"

namespace embers::ingest {

// Bounds on what one request may make a parser build. The inputs are small (the body limit is a
// few MiB) but several formats can describe output quadratic in their size (a deep chain of tree
// nodes that each carry a value repeats the whole path per sample), so the output is bounded too.
// Exceeding a bound is a 413 (PayloadTooLargeError).
struct ParseLimits {
  size_t max_stack_depth = 16 * 1024;          // frames in one stack
  size_t max_samples = 4 * 1024 * 1024;        // distinct stacks
  size_t max_total_frames = 32 * 1024 * 1024;  // sum of all stack lengths
  size_t max_name_bytes = 64 * 1024 * 1024;    // sum of distinct frame-name lengths
};

class StackSamples {
 public:
  size_t num_frames() const { return name_offsets_.size() - 1; }
  std::string_view frame_name(uint32_t id) const {
    return std::string_view(names_).substr(name_offsets_[id],
                                           name_offsets_[id + 1] - name_offsets_[id]);
  }

  size_t num_samples() const { return values_.size(); }
  std::span<const uint32_t> stack(size_t i) const {
    return std::span<const uint32_t>(stack_frames_)
        .subspan(stack_offsets_[i], stack_offsets_[i + 1] - stack_offsets_[i]);
  }
  int64_t value(size_t i) const { return values_[i]; }
  std::span<const int64_t> values() const { return values_; }

  // Sum of all values (saturating at INT64_MAX).
  int64_t TotalValue() const;
  // "a;b;c" for sample i: handy in tests and logs.
  std::string StackString(size_t i) const;
  // Every sample as "a;b;c value" lines, sorted: a canonical text form for tests.
  std::string ToFoldedSorted() const;

 private:
  friend class StackSamplesBuilder;

  std::string names_;
  std::vector<uint32_t> name_offsets_{0};
  std::vector<uint32_t> stack_frames_;
  std::vector<uint32_t> stack_offsets_{0};
  std::vector<int64_t> values_;
};

// Builds a StackSamples: interns frame names and merges identical stacks as they arrive. Lookups
// go through hash sets of ids whose hash and equality functors read the builder's own arrays, so
// neither a name nor a stack is ever copied into a temporary key.
class StackSamplesBuilder {
 public:
  explicit StackSamplesBuilder(const ParseLimits& limits = ParseLimits());
  StackSamplesBuilder(const StackSamplesBuilder&) = delete;
  StackSamplesBuilder& operator=(const StackSamplesBuilder&) = delete;

  // The id of `name`, adding it if new. Fails only when max_name_bytes would be exceeded.
  absl::Status InternFrame(std::string_view name, uint32_t* id);

  // Adds `value` to the sample with this stack (root first). A zero value or an empty stack is
  // ignored; a negative value is an error, as is a sum beyond INT64_MAX.
  absl::Status AddStack(std::span<const uint32_t> frames, int64_t value);

  // Splits `stack` on ';' the way Pyroscope's tree insert does (empty names in the middle are
  // kept, one trailing ';' is ignored) and adds it.
  absl::Status AddFoldedStack(std::string_view stack, int64_t value);

  size_t num_samples() const { return out_.values_.size(); }

  // Moves the result out; the builder is then empty and reusable.
  StackSamples Finish();

 private:
  struct NameHash {
    using is_transparent = void;
    const StackSamples* s;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
    size_t operator()(uint32_t id) const { return (*this)(s->frame_name(id)); }
  };
  struct NameEq {
    using is_transparent = void;
    const StackSamples* s;
    std::string_view Get(std::string_view v) const { return v; }
    std::string_view Get(uint32_t id) const { return s->frame_name(id); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return Get(a) == Get(b);
    }
  };
  struct StackHash {
    using is_transparent = void;
    const StackSamples* s;
    size_t operator()(std::span<const uint32_t> v) const;
    size_t operator()(uint32_t sample) const { return (*this)(s->stack(sample)); }
  };
  struct StackEq {
    using is_transparent = void;
    const StackSamples* s;
    std::span<const uint32_t> Get(std::span<const uint32_t> v) const { return v; }
    std::span<const uint32_t> Get(uint32_t sample) const { return s->stack(sample); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      auto x = Get(a);
      auto y = Get(b);
      return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
    }
  };

  ParseLimits limits_;
  StackSamples out_;
  absl::flat_hash_set<uint32_t, NameHash, NameEq> names_;
  absl::flat_hash_set<uint32_t, StackHash, StackEq> stacks_;
  std::vector<uint32_t> scratch_;  // AddFoldedStack's frame ids
};

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_STACK_SAMPLES_H_
