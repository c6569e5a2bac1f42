// Per-thread reuse of the sample arrays (samples, location_ids, values, labels) of decoded
// profiles.
//
// Why: the sample arrays are most of the memory a decoded profile touches (a 2.7 MB Go heap
// profile has 942k location ids = 7.5 MB as uint64), and they live only from Decode until
// SplitBySeries has copied each series' samples out. Allocating them fresh for every profile
// means fresh pages: glibc serves big blocks with mmap or trims them off the heap when they are
// freed, and the page faults on the next profile cost ~40 % of decode + normalise time
// (measured with `perf stat` on go_heap_large). Keeping one set per thread, with its capacity,
// lets the next Decode on that thread write into pages that are already mapped.
//
// Users: pprof::DecodeRaw takes the cached arrays; pprof::SplitBySeries gives the source
// profile's arrays back once every series has its own copy (the ingest path decodes, normalises
// and splits on the same thread). Anyone else done with a decoded profile may give them back
// too (the decode benchmark does, standing in for the split).
#ifndef EMBERS_PPROF_SAMPLE_ARRAYS_CACHE_H_
#define EMBERS_PPROF_SAMPLE_ARRAYS_CACHE_H_

#include "pprof/profile.h"

namespace embers::pprof {

// Moves the sample arrays of `profile` into this thread's cache (they are left empty in
// `profile`). Arrays whose capacity exceeds what a profile at the default size limit needs are
// freed instead, so a thread keeps at most ~40 MB.
void RecycleSampleArrays(Profile& profile);

// Moves this thread's cached arrays, emptied but with their capacity, into the (empty) sample
// arrays of `profile`. Does nothing when the cache is empty.
void ReuseSampleArrays(Profile& profile);

}  // namespace embers::pprof

#endif  // EMBERS_PPROF_SAMPLE_ARRAYS_CACHE_H_
