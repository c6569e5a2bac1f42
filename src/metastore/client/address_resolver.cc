#include "metastore/client/address_resolver.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>

#include "base/strings.h"

namespace embers::metastore {
namespace {

struct HostPort {
  std::string host;  // without IPv6 brackets
  std::string port;  // digits, 1..65535
};

absl::Status Malformed(std::string_view entry, std::string_view why) {
  return absl::InvalidArgumentError(
      StrCat("metastore address \"", entry, "\": ", why, " (want host:port or dns+host:port)"));
}

// Splits "host:port" or "[v6]:port". An unbracketed IPv6 literal is refused rather than guessed
// at: in "::1:9096" the port cannot be told from the last group.
absl::StatusOr<HostPort> SplitHostPort(std::string_view entry, std::string_view text) {
  HostPort out;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return Malformed(entry, "unbalanced '['");
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) return Malformed(entry, "no port");
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Malformed(entry, "no port");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return Malformed(entry, "an IPv6 address goes in brackets, [addr]:port");
    }
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return Malformed(entry, "no host");
  if (out.host.find_first_of("[] \t") != std::string::npos) return Malformed(entry, "bad host");
  // Digits only: strtol-style parsing would let "+80", " 80" or "80x" through.
  if (port.empty()) return Malformed(entry, "no port");
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Malformed(entry, StrCat("bad port \"", port, "\""));
  }
  const int value = std::stoi(std::string(port));
  if (value < 1 || value > 65535) return Malformed(entry, StrCat("port ", value, " out of range"));
  out.port = std::string(port);
  return out;
}

// Every A and AAAA record of `host`, as numeric strings (IPv6 without brackets), sorted and
// de-duplicated.
absl::StatusOr<std::vector<std::string>> LookUp(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  // One entry per address instead of one per socket type.
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it hides ::1 on a host whose only IPv6 address is loopback, and the records
  // are the metastore pods' addresses, not a statement about this host's interfaces.
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return absl::UnavailableError(
        StrCat("metastore address: cannot resolve \"", host, "\": ", why));
  }
  std::set<std::string> addresses;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    char text[NI_MAXHOST];
    // getnameinfo rather than inet_ntop: it keeps a link-local address's zone (fe80::1%eth0).
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof(text), nullptr, 0, NI_NUMERICHOST) ==
        0) {
      addresses.insert(text);
    }
  }
  freeaddrinfo(result);
  if (addresses.empty()) {
    return absl::UnavailableError(
        StrCat("metastore address: \"", host, "\" has no A or AAAA record"));
  }
  return std::vector<std::string>(addresses.begin(), addresses.end());
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveAddresses(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  auto add = [&](std::string address) {
    if (seen.insert(address).second) out.push_back(std::move(address));
  };
  for (const std::string& entry : entries) {
    if (entry.empty()) return Malformed(entry, "empty");
    const std::string_view text(entry);
    if (!text.starts_with(kDnsAddressPrefix)) {
      absl::StatusOr<HostPort> hp = SplitHostPort(entry, text);
      if (!hp.ok()) return hp.status();
      add(entry);
      continue;
    }
    absl::StatusOr<HostPort> hp =
        SplitHostPort(entry, text.substr(std::string_view(kDnsAddressPrefix).size()));
    if (!hp.ok()) return hp.status();
    absl::StatusOr<std::vector<std::string>> ips = LookUp(hp->host);
    if (!ips.ok()) return ips.status();
    // Sorted as ip:port strings, so IPv4 records come before IPv6 ones ('[' sorts after digits).
    std::vector<std::string> resolved;
    resolved.reserve(ips->size());
    for (const std::string& ip : *ips) {
      resolved.push_back(ip.find(':') != std::string::npos ? StrCat("[", ip, "]:", hp->port)
                                                           : StrCat(ip, ":", hp->port));
    }
    std::sort(resolved.begin(), resolved.end());
    for (std::string& r : resolved) add(std::move(r));
  }
  return out;
}

}  // namespace embers::metastore
