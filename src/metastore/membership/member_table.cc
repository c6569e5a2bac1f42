#include "metastore/membership/member_table.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace embers::metastore {

absl::Status MemberTable::Validate(const v1::Member& m) {
  if (m.id().empty() || m.id().size() > kMaxFieldBytes) {
    return absl::InvalidArgumentError(
        StrCat("member id must be 1..", kMaxFieldBytes, " bytes, got ", m.id().size()));
  }
  if (m.kind() == v1::MEMBER_KIND_UNSPECIFIED || !v1::MemberKind_IsValid(m.kind())) {
    return absl::InvalidArgumentError(
        StrCat("member ", m.id(), ": unknown kind ", static_cast<int>(m.kind())));
  }
  if (m.state() == v1::MEMBER_STATE_UNSPECIFIED || !v1::MemberState_IsValid(m.state())) {
    return absl::InvalidArgumentError(
        StrCat("member ", m.id(), ": unknown state ", static_cast<int>(m.state())));
  }
  const size_t colon = m.address().rfind(':');
  if (m.address().size() > kMaxFieldBytes || colon == std::string::npos || colon == 0 ||
      colon + 1 == m.address().size()) {
    return absl::InvalidArgumentError(
        StrCat("member ", m.id(), ": address \"", m.address(), "\" is not host:port"));
  }
  if (m.tokens() > kMaxTokens) {
    return absl::InvalidArgumentError(
        StrCat("member ", m.id(), ": ", m.tokens(), " tokens, at most ", kMaxTokens));
  }
  return absl::OkStatus();
}

uint32_t MemberTable::LowestFreeSlot(v1::MemberKind kind) const {
  std::vector<uint32_t> used;
  for (const auto& [id, m] : members_) {
    if (m.kind() == kind) used.push_back(m.slot());
  }
  std::sort(used.begin(), used.end());
  uint32_t slot = 0;
  for (uint32_t s : used) {
    if (s == slot) {
      slot++;
    } else if (s > slot) {
      break;
    }
  }
  return slot;
}

absl::Status MemberTable::Apply(const v1::UpdateMembersCommand& command, int64_t leader_time_ms,
                                uint64_t index) {
  for (const v1::Member& m : command.upsert()) {
    if (absl::Status s = Validate(m); !s.ok()) return s;
  }
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t added = 0;
    std::set<std::string_view> new_ids;
    for (const v1::Member& m : command.upsert()) {
      if (!members_.contains(m.id()) && new_ids.insert(m.id()).second) added++;
    }
    if (members_.size() + added > kMaxMembers) {
      return absl::ResourceExhaustedError(
          StrCat("the member table holds at most ", kMaxMembers, " members"));
    }
    for (const v1::Member& in : command.upsert()) {
      auto it = members_.find(in.id());
      if (it == members_.end()) {
        v1::Member m = in;
        m.set_slot(LowestFreeSlot(m.kind()));
        m.set_joined_at_ms(leader_time_ms);
        m.set_updated_at_ms(leader_time_ms);
        m.clear_last_heartbeat_age_ms();
        members_.emplace(m.id(), std::move(m));
        changed = true;
        continue;
      }
      v1::Member& m = it->second;
      if (m.kind() == in.kind() && m.address() == in.address() && m.state() == in.state() &&
          m.tokens() == in.tokens()) {
        continue;  // a repeated heartbeat's command: nothing new
      }
      if (m.kind() != in.kind()) {
        m.set_kind(in.kind());
        m.set_slot(UINT32_MAX);  // not counted as used by its new kind
        m.set_slot(LowestFreeSlot(in.kind()));
      }
      m.set_address(in.address());
      m.set_state(in.state());
      m.set_tokens(in.tokens());
      m.set_updated_at_ms(leader_time_ms);
      changed = true;
    }
    for (const std::string& id : command.remove()) {
      changed |= members_.erase(id) > 0;
    }
    if (changed) version_ = index;
  }
  if (changed) Changed(index);
  return absl::OkStatus();
}

absl::Status MemberTable::ApplyRules(const v1::PlacementRules& rules, uint64_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    rules_ = rules;
    version_ = index;
  }
  Changed(index);
  return absl::OkStatus();
}

void MemberTable::Changed(uint64_t version) {
  if (on_change_) on_change_(version);
}

v1::ClusterView MemberTable::View() const {
  v1::ClusterView view;
  std::vector<const v1::Member*> sorted;
  std::lock_guard<std::mutex> lock(mu_);
  view.set_version(version_);
  sorted.reserve(members_.size());
  for (const auto& [id, m] : members_) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), [](const v1::Member* a, const v1::Member* b) {
    return std::pair(a->kind(), a->slot()) < std::pair(b->kind(), b->slot());
  });
  for (const v1::Member* m : sorted) *view.add_members() = *m;
  *view.mutable_placement_rules() = rules_;
  return view;
}

uint64_t MemberTable::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

std::optional<v1::Member> MemberTable::Find(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

v1::PlacementRules MemberTable::rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

void MemberTable::AppendTo(v1::RaftSnapshotHeader* header) const {
  v1::ClusterView view = View();
  header->mutable_members()->Swap(view.mutable_members());
  header->mutable_placement_rules()->Swap(view.mutable_placement_rules());
  header->set_cluster_version(view.version());
}

absl::StatusOr<MemberTable::Decoded> MemberTable::Decode(const v1::RaftSnapshotHeader& header) {
  Decoded out;
  if (static_cast<size_t>(header.members_size()) > kMaxMembers) {
    return absl::DataLossError(StrCat("metastore snapshot: ", header.members_size(), " members"));
  }
  for (const v1::Member& m : header.members()) {
    if (absl::Status s = Validate(m); !s.ok()) {
      return absl::DataLossError(StrCat("metastore snapshot: ", ToStd(s.message())));
    }
    if (!out.members.emplace(m.id(), m).second) {
      return absl::DataLossError(StrCat("metastore snapshot: member ", m.id(), " twice"));
    }
  }
  out.rules = header.placement_rules();
  out.version = header.cluster_version();
  return out;
}

void MemberTable::Install(Decoded decoded) {
  uint64_t version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    members_ = std::move(decoded.members);
    rules_ = std::move(decoded.rules);
    version_ = decoded.version;
    version = version_;
  }
  Changed(version);
}

}  // namespace embers::metastore
