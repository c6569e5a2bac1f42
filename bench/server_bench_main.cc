// main() of the benchmarks that stand for the server's hot paths (query merge, segment head):
// they tune malloc as the embers binary does (base/malloc_tuning.h), so page faults on freshly
// mapped buffers are not measured as the kernel's cost.
#include <benchmark/benchmark.h>

#include "base/malloc_tuning.h"

int main(int argc, char** argv) {
  embers::TuneMallocForLargeBuffers();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
