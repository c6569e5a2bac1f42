// FreeLoopbackPort: a loopback TCP port that was free a moment ago, for tests that must name a
// port up front (a Raft node's address is its identity, so port 0 cannot be used). Test-only.
//
// The port is taken below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range),
// where the ports handed out for port 0 come from: servers of concurrent tests bind port 0, and
// one of them could otherwise be given this port between the pick and the bind. Two picks
// colliding is still possible (1 in a few thousand); tests that spawn servers retry on it.
#ifndef EMBERS_BASE_TEST_PORTS_H_
#define EMBERS_BASE_TEST_PORTS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>

namespace embers::testing {

inline int FreeLoopbackPort() {
  int low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> low;
  const int from = std::max(1024, std::min(20000, low - 4096));
  thread_local std::mt19937 rng{std::random_device{}()};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = from + static_cast<int>(rng() % static_cast<unsigned>(low - from));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (free) return port;
  }
  return 0;
}

}  // namespace embers::testing

#endif  // EMBERS_BASE_TEST_PORTS_H_
