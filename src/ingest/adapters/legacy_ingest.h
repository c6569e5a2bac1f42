// POST /ingest (and /pyroscope/ingest): Pyroscope's legacy ingestion API, turned into the
// profiles the distributor takes (reference §2.2; upstream pkg/ingester/pyroscope and
// pkg/og/convert).
//
// The HTTP handler reads the query parameters, the Content-Type header and the body (with any
// Content-Encoding already removed) into a LegacyIngestRequest and calls ConvertLegacyIngest;
// the result goes to Distributor::Push. Nothing here talks to the network or the clock, except
// that `now_nanos == 0` means "now" for `from`/`until` defaults.
//
// Format selection, first match wins, as upstream:
//   format=trie or Content-Type binary/octet-stream+trie   transport trie
//   format=tree or Content-Type binary/octet-stream+tree   og tree
//   format=lines                                           one stack per line
//   format=jfr                                             JFR, raw or multipart (jfr + labels)
//   format=pprof                                           pprof (raw; multipart is accepted too)
//   format=speedscope                                      speedscope JSON
//   Content-Type multipart/form-data                       pprof multipart (profile,
//                                                          sample_type_config; prev_profile is
//                                                          rejected: "unsupported client version")
//   format empty, "groups" or "folded"                     folded stacks ("a;b;c 12" per line)
// Unlike upstream, which silently treats any other `format` as folded, an unknown format is a
// 415 so a client typo is visible.
//
// Status codes (base/status.h): 400 for bad query metadata (name, from, until, sampleRate,
// aggregationType, unknown profile-type suffix) and broken multipart bodies; 413 when a
// decompressed body or profile exceeds its limit; 415 for an unknown format; 422 when the body
// cannot be converted (malformed pprof — including invalid UTF-8 — JFR, folded counts, trie,
// tree, speedscope).
#ifndef EMBERS_INGEST_ADAPTERS_LEGACY_INGEST_H_
#define EMBERS_INGEST_ADAPTERS_LEGACY_INGEST_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/ingest_profile.h"
#include "ingest/legacy/stack_samples.h"

namespace embers::ingest {

struct LegacyIngestLimits {
  // Pyroscope's validation.max-profile-size-bytes: the uncompressed size of a pprof profile.
  size_t max_profile_size = 4 << 20;
  // Any other decompressed input (a gzip body without Content-Encoding, JFR, text formats).
  size_t max_body_size = 64 << 20;
  // Bounds on what the text/binary parsers may build.
  ParseLimits parse;
};

struct LegacyIngestRequest {
  // Query parameters, verbatim (empty when absent).
  std::string name;
  std::string from;
  std::string until;
  std::string format;
  std::string sample_rate;  // sampleRate
  std::string spy_name;     // spyName
  std::string units;
  std::string aggregation_type;  // aggregationType
  // The Content-Type header.
  std::string content_type;
  // The request body after Content-Encoding decoding; it may still be gzip (sniffed). Must
  // outlive the call only (the result owns copies of what it keeps).
  std::string_view body;
  // Reference time for `now`-relative and missing from/until; 0 means the current time.
  int64_t now_nanos = 0;
  LegacyIngestLimits limits;
};

// Converts one /ingest request. An empty vector is a success with nothing to store (an empty
// body, or a text profile carrying a `profile_id` tag, which upstream ignores).
absl::StatusOr<std::vector<IngestProfile>> ConvertLegacyIngest(const LegacyIngestRequest& request);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_ADAPTERS_LEGACY_INGEST_H_
