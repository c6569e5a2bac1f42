#include "server/cluster_membership.h"

#include <unistd.h>

#include "base/strings.h"
#include "nlohmann/json.hpp"

namespace embers::server {

namespace v1 = ::metastore::v1;

std::string MemberAdvertiseAddress(const Config& config, int internal_port) {
  if (!config.internal_grpc_advertise_address.empty()) {
    return config.internal_grpc_advertise_address;
  }
  std::string host = config.internal_grpc_listen_address;
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    char name[256] = {};
    host = gethostname(name, sizeof(name) - 1) == 0 ? name : "localhost";
  }
  return StrCat(host, ":", internal_port > 0 ? internal_port : config.internal_grpc_listen_port);
}

std::unique_ptr<metastore::MemberRegistration> NewMemberRegistration(
    const Config& config, int internal_port, metastore::MembershipService* service,
    v1::MemberKind kind, uint32_t tokens) {
  metastore::MemberRegistrationOptions o;
  o.member.set_address(MemberAdvertiseAddress(config, internal_port));
  o.member.set_id(config.membership_instance_id.empty() ? o.member.address()
                                                        : config.membership_instance_id);
  o.member.set_kind(kind);
  o.member.set_tokens(tokens);
  o.interval = config.membership_heartbeat_interval;
  return std::make_unique<metastore::MemberRegistration>(service, std::move(o));
}

std::vector<segmentwriter::SegmentWriterEndpoint> SegmentWritersOf(const v1::ClusterView& view) {
  std::vector<segmentwriter::SegmentWriterEndpoint> out;
  for (const v1::Member& m : view.members()) {
    if (m.kind() != v1::MEMBER_KIND_SEGMENT_WRITER) continue;
    out.push_back({.address = m.address(),
                   .slot = m.slot(),
                   .accepting = m.state() == v1::MEMBER_STATE_ACTIVE});
  }
  return out;
}

std::vector<std::string> QueryBackendsOf(const v1::ClusterView& view) {
  std::vector<std::string> out;
  for (const v1::Member& m : view.members()) {
    if (m.kind() == v1::MEMBER_KIND_QUERY_BACKEND && m.state() == v1::MEMBER_STATE_ACTIVE) {
      out.push_back(m.address());
    }
  }
  return out;
}

std::string ClusterViewJson(const v1::ClusterView& view) {
  nlohmann::json members = nlohmann::json::array();
  for (const v1::Member& m : view.members()) {
    nlohmann::json j = {{"id", m.id()},
                        {"kind", v1::MemberKind_Name(m.kind())},
                        {"address", m.address()},
                        {"state", v1::MemberState_Name(m.state())},
                        {"slot", m.slot()},
                        {"joined_at_ms", m.joined_at_ms()},
                        {"updated_at_ms", m.updated_at_ms()},
                        {"last_heartbeat_age_ms", m.last_heartbeat_age_ms()}};
    if (m.kind() == v1::MEMBER_KIND_SEGMENT_WRITER) j["tokens"] = m.tokens();
    members.push_back(std::move(j));
  }
  nlohmann::json datasets = nlohmann::json::array();
  for (const v1::DatasetPlacement& d : view.placement_rules().datasets()) {
    datasets.push_back({{"tenant", d.tenant_id()},
                        {"dataset", d.dataset()},
                        {"dataset_shards", d.dataset_shards()},
                        {"usage_bytes_per_second", d.usage_bytes_per_second()}});
  }
  nlohmann::json j = {
      {"version", view.version()},
      {"members", members},
      {"placement_rules",
       {{"created_at_ms", view.placement_rules().created_at_ms()},
        {"default_dataset_shards", view.placement_rules().default_dataset_shards()},
        {"datasets", datasets}}},
  };
  return j.dump();
}

}  // namespace embers::server
