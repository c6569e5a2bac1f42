#include "metastore/leader_redirect.h"

#include "base/strings.h"

namespace embers::metastore {

namespace {

constexpr std::string_view kNotLeader = "not the metastore leader";

// The value of `key` (e.g. "leader_id=") in a not-leader message, up to the next separator.
std::optional<std::string_view> Field(const absl::Status& status, std::string_view key) {
  if (!IsNotLeaderError(status)) return std::nullopt;
  std::string_view msg = ToStd(status.message());
  // Keys are matched after a space so "leader_address=" does not match inside another key.
  std::string needle = StrCat(" ", key);
  size_t pos = msg.find(needle);
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view rest = msg.substr(pos + needle.size());
  rest = rest.substr(0, rest.find_first_of(" ;,)"));
  if (rest.empty()) return std::nullopt;
  return rest;
}

}  // namespace

bool IsNotLeaderError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable &&
         ToStd(status.message()).find(kNotLeader) != std::string_view::npos;
}

std::optional<uint64_t> LeaderIdFromError(const absl::Status& status) {
  std::optional<std::string_view> v = Field(status, "leader_id=");
  int64_t id = 0;
  if (!v || !ParseInt64(*v, &id) || id <= 0) return std::nullopt;
  return static_cast<uint64_t>(id);
}

absl::Status WithLeaderGrpcAddress(const absl::Status& status, std::string_view endpoint) {
  if (endpoint.empty() || !IsNotLeaderError(status)) return status;
  return absl::Status(status.code(),
                      StrCat(ToStd(status.message()), " leader_grpc_address=", endpoint));
}

std::optional<std::string> LeaderGrpcAddressFromError(const absl::Status& status) {
  std::optional<std::string_view> v = Field(status, "leader_grpc_address=");
  if (!v) return std::nullopt;
  return std::string(*v);
}

}  // namespace embers::metastore
