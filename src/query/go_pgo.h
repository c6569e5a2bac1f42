// ApplyGoPgo: shapes a merged pprof for Go's profile-guided optimisation, as upstream's GoPGO
// stack-trace selector does (SelectMergeProfile with stack_trace_selector.go_pgo; profilecli
// `query go-pgo`).
//
// The Go compiler only looks at the few leaf-most frames of each sample, so:
//  - keep_locations > 0 cuts every stack to its keep_locations leaf-most locations;
//  - aggregate_callees clears the line number of each sample's leaf frame (the innermost line of
//    its leaf location), so samples that differ only by where in the callee they were taken
//    count as one;
// then samples left with the same stack are merged (values summed) and what no sample references
// any more (locations, functions, mappings) is dropped. Totals are preserved. Ids stay 1..N.
#ifndef EMBERS_QUERY_GO_PGO_H_
#define EMBERS_QUERY_GO_PGO_H_

#include "google/v1/profile.pb.h"
#include "types/v1/types.pb.h"

namespace embers::query {

void ApplyGoPgo(const types::v1::GoPGO& pgo, google::v1::Profile* profile);

}  // namespace embers::query

#endif  // EMBERS_QUERY_GO_PGO_H_
