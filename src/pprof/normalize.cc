#include "pprof/normalize.h"

// Inlined: Normalize hashes every sample's stack, and the call into the shared library shows.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/strings.h"

namespace embers::pprof {

namespace {

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// Moves `cut` forward past UTF-8 continuation bytes so s.substr(cut) starts on a character.
size_t AlignToCharStart(std::string_view s, size_t cut) {
  while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) ++cut;
  return cut;
}

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v * 0x9E3779B97F4A7C15ULL;
  h = (h << 31) | (h >> 33);
  return h * 0xC2B2AE3D27D4EB4FULL;
}

// True when samples a and b have the same stack and the same (sorted, string-only) labels.
bool SameKey(const Profile& p, const Sample& x, const Sample& y) {
  if (x.location_count != y.location_count || x.label_count != y.label_count) return false;
  if (std::memcmp(p.location_ids.data() + x.location_begin,
                  p.location_ids.data() + y.location_begin,
                  x.location_count * sizeof(uint64_t)) != 0) {
    return false;
  }
  for (uint32_t k = 0; k < x.label_count; ++k) {
    const Label& l = p.labels[x.label_begin + k];
    const Label& m = p.labels[y.label_begin + k];
    if (l.key != m.key || l.str != m.str) return false;
  }
  return true;
}

// Working memory of the merge, kept per thread so that normalising a profile does not map fresh
// pages (see sample_arrays_cache.h for why that matters).
struct MergeScratch {
  // Open addressing, linear probing. Slot: 0 = empty, else (hash >> 32) << 32 | (sample + 1),
  // so most probes that do not match are told apart without touching the samples.
  std::vector<uint64_t> table;
  std::vector<uint64_t> hashes;  // per sample
  std::vector<uint8_t> merged_away;
};

MergeScratch& Scratch() {
  thread_local MergeScratch scratch;
  return scratch;
}

}  // namespace

absl::Status Normalize(Profile* profile, const NormalizeOptions& opt) {
  Profile& p = *profile;

  // --- Limits (upstream ValidateProfile), in upstream order.
  if (opt.max_samples != 0 && p.samples.size() > opt.max_samples) {
    return Invalid(
        StrCat("the profile exceeds the samples count limit "
               "(max_profile_stacktrace_samples, actual: ",
               p.samples.size(), ", limit: ", opt.max_samples, ")"));
  }
  for (Sample& s : p.samples) {
    if (opt.max_stack_depth != 0 && s.location_count > opt.max_stack_depth) {
      // location_ids[begin] is the leaf; keep the root-most max_stack_depth frames.
      s.location_begin += s.location_count - static_cast<uint32_t>(opt.max_stack_depth);
      s.location_count = static_cast<uint32_t>(opt.max_stack_depth);
    }
    if (opt.max_labels_per_sample != 0 && s.label_count > opt.max_labels_per_sample) {
      return Invalid(
          StrCat("the profile exceeds the sample labels limit "
                 "(max_profile_stacktrace_sample_labels, actual: ",
                 s.label_count, ", limit: ", opt.max_labels_per_sample, ")"));
    }
  }
  if (opt.max_symbol_length != 0) {
    for (std::string_view& s : p.strings) {
      if (s.size() > opt.max_symbol_length) {
        s = s.substr(AlignToCharStart(s, s.size() - opt.max_symbol_length));
      }
    }
  }
  if (opt.reject_hyphenated_sample_types) {
    for (const ValueType& vt : p.sample_types) {
      if (p.String(vt.type).find('-') != std::string_view::npos) {
        return Invalid("sample type contains -");
      }
    }
  }

  // --- Normalisation (upstream Profile.Normalize).
  if (p.time_nanos == 0) {
    p.time_nanos = opt.now_nanos != 0 ? opt.now_nanos
                                      : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count();
  }

  // Drop numeric labels and sort the rest, so equal label sets compare equal element-wise; then
  // merge each sample into the first one with the same key.
  MergeScratch& scratch = Scratch();
  const size_t n = p.samples.size();
  scratch.hashes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Sample& s = p.samples[i];
    Label* begin = p.labels.data() + s.label_begin;
    Label* end =
        std::remove_if(begin, begin + s.label_count, [](const Label& l) { return l.str == 0; });
    s.label_count = static_cast<uint32_t>(end - begin);
    if (s.label_count > 1) {
      std::sort(begin, end, [](const Label& a, const Label& b) {
        return a.key != b.key ? a.key < b.key : a.str < b.str;
      });
    }
    uint64_t h =
        XXH3_64bits(p.location_ids.data() + s.location_begin, s.location_count * sizeof(uint64_t));
    for (const Label* l = begin; l != end; ++l) h = Mix(Mix(h, l->key), l->str);
    scratch.hashes[i] = h;
  }

  size_t slots = 16;
  while (slots < 2 * n) slots *= 2;
  const size_t mask = slots - 1;
  scratch.table.assign(slots, 0);
  scratch.merged_away.assign(n, 0);
  const size_t n_values = p.sample_types.size();
  // The table is bigger than L2 for big profiles and every sample probes a random slot: fetch
  // the slot a few samples ahead so the misses overlap.
  constexpr size_t kPrefetchDistance = 16;
  for (size_t i = 0; i < n; ++i) {
    if (i + kPrefetchDistance < n) {
      __builtin_prefetch(&scratch.table[scratch.hashes[i + kPrefetchDistance] & mask]);
    }
    const Sample& s = p.samples[i];
    const uint64_t h = scratch.hashes[i];
    const uint64_t tag = h & 0xFFFFFFFF00000000ULL;
    for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
      uint64_t e = scratch.table[slot];
      if (e == 0) {
        scratch.table[slot] = tag | (i + 1);
        break;
      }
      if ((e & 0xFFFFFFFF00000000ULL) != tag) continue;
      const Sample& first = p.samples[(e & 0xFFFFFFFFu) - 1];
      if (!SameKey(p, first, s)) continue;
      int64_t* dst = p.values.data() + first.value_begin;
      const int64_t* src = p.values.data() + s.value_begin;
      for (size_t k = 0; k < n_values; ++k) dst[k] += src[k];
      scratch.merged_away[i] = 1;
      break;
    }
  }

  // Drop merged samples and those without a positive value.
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (scratch.merged_away[i]) continue;
    const Sample& s = p.samples[i];
    const int64_t* v = p.values.data() + s.value_begin;
    bool positive = false;
    for (size_t k = 0; k < n_values; ++k) positive |= v[k] > 0;
    if (positive) p.samples[kept++] = s;
  }
  p.samples.resize(kept);
  // 16,000 samples (the default limit) need 256 KiB of table; what a limitless tool decoded
  // is not kept.
  if (scratch.table.size() > (size_t{1} << 20)) scratch = MergeScratch();

  // Symbolized mappings do not need addresses (upstream clearAddresses).
  for (Mapping& m : p.mappings) {
    if (m.has_functions) m.memory_start = m.memory_limit = m.file_offset = 0;
  }
  for (Location& loc : p.locations) {
    if (loc.mapping_id == 0) continue;
    int64_t mi = p.MappingIndex(loc.mapping_id);
    if (mi >= 0 && p.mappings[mi].has_functions) loc.address = 0;
  }
  return absl::OkStatus();
}

}  // namespace embers::pprof
