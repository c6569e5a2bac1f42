// The process's open-files limit (RLIMIT_NOFILE), which bounds connections, objects and log files
// alike.
//
// main() raises the soft limit to the hard one at start (as Go's runtime does for its servers:
// Debian's soft default of 1024 is far below what a server holding thousands of keep-alive
// connections needs); App derives the default -server.http-max-connections from the result so
// that a connection flood stops at that bound, with descriptors to spare for everything else.
#ifndef EMBERS_BASE_OPEN_FILES_LIMIT_H_
#define EMBERS_BASE_OPEN_FILES_LIMIT_H_

#include <cstdint>

namespace embers {

// Raises the soft limit to the hard limit (to at most 1 << 20); returns the soft limit in effect
// afterwards (also when it could not be raised).
int64_t RaiseOpenFilesLimit();
// The soft limit in effect (INT64_MAX when unlimited).
int64_t OpenFilesLimit();

}  // namespace embers

#endif  // EMBERS_BASE_OPEN_FILES_LIMIT_H_
