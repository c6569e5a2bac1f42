#include "metastore/membership/member_leases.h"

#include <set>

namespace embers::metastore {

std::optional<v1::Member> MemberLeases::OnHeartbeat(const v1::Member& incoming,
                                                    const std::optional<v1::Member>& stored,
                                                    int64_t now_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_heartbeat_ms_[incoming.id()] = now_ms;
  }
  if (stored.has_value() && stored->kind() == incoming.kind() &&
      stored->address() == incoming.address() && stored->state() == incoming.state() &&
      stored->tokens() == incoming.tokens()) {
    return std::nullopt;
  }
  v1::Member out;
  out.set_id(incoming.id());
  out.set_kind(incoming.kind());
  out.set_address(incoming.address());
  out.set_state(incoming.state());
  out.set_tokens(incoming.tokens());
  return out;
}

void MemberLeases::OnLeave(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  last_heartbeat_ms_.erase(id);
}

v1::UpdateMembersCommand MemberLeases::Expire(const v1::ClusterView& view, int64_t now_ms) {
  v1::UpdateMembersCommand out;
  const int64_t lease = absl::ToInt64Milliseconds(options_.lease);
  const int64_t forget = absl::ToInt64Milliseconds(options_.forget_after);
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> in_table;
  for (const v1::Member& m : view.members()) {
    in_table.insert(m.id());
    auto it = last_heartbeat_ms_.find(m.id());
    if (it == last_heartbeat_ms_.end()) {
      // Registered through another leader and never heard of since Reset: start its lease now.
      last_heartbeat_ms_.emplace(m.id(), now_ms);
      continue;
    }
    if (m.state() == v1::MEMBER_STATE_UNHEALTHY) {
      if (now_ms - m.updated_at_ms() >= forget) out.add_remove(m.id());
      continue;
    }
    if (now_ms - it->second >= lease) {
      v1::Member* u = out.add_upsert();
      *u = m;
      u->set_state(v1::MEMBER_STATE_UNHEALTHY);
      u->clear_last_heartbeat_age_ms();
    }
  }
  // A heartbeat whose proposal failed leaves an entry for an id the table never got; and
  // removed members leave theirs.
  for (auto it = last_heartbeat_ms_.begin(); it != last_heartbeat_ms_.end();) {
    if (!in_table.contains(it->first) && now_ms - it->second >= lease) {
      it = last_heartbeat_ms_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

void MemberLeases::Reset(const v1::ClusterView& view, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  last_heartbeat_ms_.clear();
  for (const v1::Member& m : view.members()) last_heartbeat_ms_[m.id()] = now_ms;
}

int64_t MemberLeases::AgeMs(const std::string& id, int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_heartbeat_ms_.find(id);
  return it == last_heartbeat_ms_.end() ? -1 : now_ms - it->second;
}

}  // namespace embers::metastore
