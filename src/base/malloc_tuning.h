// TuneMallocForLargeBuffers: keeps glibc malloc from returning large freed buffers to the kernel.
//
// Decoding a profile and reading an object for a query allocate multi-megabyte arrays that live
// for one request. By default glibc serves such blocks with mmap (or trims the heap top right
// after they are freed), so every request pays for fresh zeroed pages: on the query kernel
// (bench/query_merge_bench) page faults and page clearing took about 60% of the CPU time. With
// the thresholds raised, blocks up to 32 MiB come from the heap and up to 64 MiB of free heap top
// is kept for the next request. Called once at start by the embers binary and the benchmarks that
// stand for it, before any thread starts. Memory that is free stays reusable by any request, so
// steady-state RSS grows by at most the trim threshold.
#ifndef EMBERS_BASE_MALLOC_TUNING_H_
#define EMBERS_BASE_MALLOC_TUNING_H_

namespace embers {

void TuneMallocForLargeBuffers();

}  // namespace embers

#endif  // EMBERS_BASE_MALLOC_TUNING_H_
