#include "metastore/retention.h"

#include <algorithm>

#include "base/flags.h"
#include "base/strings.h"

namespace embers::metastore {

absl::Duration RetentionOptions::PeriodOf(std::string_view tenant) const {
  auto it = tenant_periods.find(tenant);
  return it == tenant_periods.end() ? default_period : it->second;
}

absl::StatusOr<std::map<std::string, absl::Duration, std::less<>>> ParseTenantPeriods(
    const std::vector<std::string>& items) {
  std::map<std::string, absl::Duration, std::less<>> out;
  for (const std::string& raw : items) {
    std::string_view item = StripWhitespace(raw);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    absl::Duration d;
    if (eq == std::string_view::npos || StripWhitespace(item.substr(0, eq)).empty() ||
        !ParseGoDuration(item.substr(eq + 1), &d).ok() || d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          StrCat("bad retention override \"", item, "\": want tenant=duration (0 = forever)"));
    }
    out[std::string(StripWhitespace(item.substr(0, eq)))] = d;
  }
  return out;
}

std::vector<v1::ReplaceBlocksRequest> PlanRetention(const BlockIndex& index,
                                                    const RetentionOptions& options,
                                                    int64_t now_ms) {
  // Nothing can expire before now minus the shortest positive period.
  absl::Duration shortest = absl::InfiniteDuration();
  if (options.default_period > absl::ZeroDuration()) shortest = options.default_period;
  for (const auto& [tenant, p] : options.tenant_periods) {
    if (p > absl::ZeroDuration()) shortest = std::min(shortest, p);
  }
  if (shortest == absl::InfiniteDuration()) return {};
  std::vector<v1::ReplaceBlocksRequest> out;
  for (IndexShardSummary& s : index.ShardsBefore(now_ms - absl::ToInt64Milliseconds(shortest))) {
    if (out.size() >= options.max_shards_per_run) break;
    v1::ReplaceBlocksRequest r;
    v1::BlockTombstones* t = r.mutable_tombstones();
    for (IndexShardSummary::Block& b : s.blocks) {
      // The longest period of the tenants whose data the block holds (a segment holds several).
      absl::Duration keep = absl::ZeroDuration();
      bool forever = b.tenants.empty();
      for (const std::string& tenant : b.tenants) {
        absl::Duration p = options.PeriodOf(tenant);
        if (p <= absl::ZeroDuration()) forever = true;
        keep = std::max(keep, p);
      }
      if (forever || b.max_time >= now_ms - absl::ToInt64Milliseconds(keep)) continue;
      t->add_blocks(std::move(b.id));
    }
    if (t->blocks().empty()) continue;
    t->set_name(StrCat("retention/", s.partition, "/", s.tenant.empty() ? "-" : s.tenant, "/",
                       s.shard, "/", now_ms));
    t->set_tenant(s.tenant);
    t->set_shard(s.shard);
    t->set_created_at(now_ms);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace embers::metastore
