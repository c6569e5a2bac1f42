// DNS discovery of metastore nodes for -metastore.address.
//
// In Kubernetes the metastore is a StatefulSet behind a headless Service, whose DNS name has one
// A (or AAAA) record per ready pod. Listing the pods by name would tie every other component's
// configuration to the replica count; `dns+<name>:<port>` lets them follow it instead (the form
// Pyroscope and the rest of dskit use for the same purpose).
//
// An entry is either
//   host:port          passed through unchanged (a name here is resolved by gRPC itself), or
//   dns+host:port      every A and AAAA record of host, each as ip:port (IPv6 as [ip]:port),
//                      sorted and de-duplicated, in place of the entry.
// An address that appears twice in the result (two entries naming one node) is kept once, where it
// first appears, so a client does not try a node twice per round.
//
// Resolution uses getaddrinfo (so /etc/hosts and the system resolver's configuration apply) and
// blocks: call it where a blocking lookup is acceptable (at start, or on a refresh thread), never
// on a gRPC callback or event-loop thread.
#ifndef EMBERS_METASTORE_CLIENT_ADDRESS_RESOLVER_H_
#define EMBERS_METASTORE_CLIENT_ADDRESS_RESOLVER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::metastore {

// The prefix that asks for DNS resolution of an entry.
inline constexpr char kDnsAddressPrefix[] = "dns+";

// InvalidArgument for a malformed entry (empty, no host, no port, a port that is not 1..65535,
// an unbalanced IPv6 bracket); Unavailable when a dns+ name does not resolve or has no A/AAAA
// record (the message names the host: the usual cause is a Service that does not exist yet or has
// no ready pod, which a retry later fixes).
absl::StatusOr<std::vector<std::string>> ResolveAddresses(const std::vector<std::string>& entries);

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_CLIENT_ADDRESS_RESOLVER_H_
