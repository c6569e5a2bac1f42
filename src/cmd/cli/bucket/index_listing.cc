#include "cmd/cli/bucket/index_listing.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "base/status.h"
#include "base/strings.h"
#include "block/object_writer.h"
#include "cmd/cli/metastore_call.h"
#include "metastore/client/metastore_client.h"

namespace embers::cli {
namespace {

namespace v1 = ::metastore::v1;

// Calls go to any tenant's data; the index does not use the caller's tenant.
CallContext ListCall(absl::Time deadline) {
  CallContext ctx;
  ctx.tenant = "anonymous";
  ctx.deadline = deadline;
  return ctx;
}

// A block as it is merged from the answers of several queries.
struct Merged {
  IndexedBlock block;
  std::set<std::string> tenants;
  std::set<uint64_t> datasets;  // by section offset: a dataset seen in two answers counts once
};

class Lister {
 public:
  Lister(metastore::MetastoreClient& client, const ListIndexOptions& options)
      : client_(client), options_(options) {}

  // Adds the blocks of `tenant` overlapping [start, end], halving the range while the answer is
  // too large for one message.
  absl::Status Query(const std::string& tenant, int64_t start, int64_t end) {
    v1::QueryMetadataRequest request;
    request.add_tenant_id(tenant);
    request.set_start_time(start);
    request.set_end_time(end);
    request.set_query(options_.query);
    v1::QueryMetadataResponse response;
    const CallContext ctx = ListCall(options_.deadline);
    absl::Status status = AwaitMetastore(
        [&](UnaryDone done) { client_.QueryMetadata(ctx, request, &response, std::move(done)); });
    if (absl::IsResourceExhausted(status) && start < end) {
      // Halves without overflowing, whatever the signs of the ends.
      const int64_t mid = start / 2 + end / 2 + (start % 2 + end % 2) / 2;
      EMBERS_RETURN_IF_ERROR(Query(tenant, start, mid));
      return Query(tenant, mid + 1, end);
    }
    if (!status.ok()) {
      return Annotate(status, StrCat("metastore QueryMetadata for tenant \"", tenant, "\""));
    }
    for (const v1::BlockMeta& meta : response.blocks()) Add(meta);
    return absl::OkStatus();
  }

  void Add(const v1::BlockMeta& meta) {
    if (options_.level >= 0 && meta.compaction_level() != static_cast<uint32_t>(options_.level)) {
      return;
    }
    auto [it, inserted] = blocks_.try_emplace(meta.id());
    Merged& m = it->second;
    if (inserted) {
      IndexedBlock& b = m.block;
      b.id = meta.id();
      b.shard = meta.shard();
      b.level = meta.compaction_level();
      b.min_time_ms = meta.min_time();
      b.max_time_ms = meta.max_time();
      b.size = meta.size();
      b.format_version = meta.format_version();
      b.created_by = String(meta, meta.created_by());
      b.key = block::ObjectKey(meta);
    }
    for (const v1::Dataset& d : meta.datasets()) {
      m.tenants.insert(String(meta, d.tenant()));
      m.datasets.insert(d.table_of_contents_size() > 0 ? d.table_of_contents(0) : 0);
    }
  }

  IndexListing Finish(std::vector<std::string> tenants) {
    IndexListing listing;
    listing.tenants = std::move(tenants);
    listing.blocks.reserve(blocks_.size());
    for (auto& [id, m] : blocks_) {
      m.block.tenants.assign(m.tenants.begin(), m.tenants.end());
      m.block.datasets = static_cast<uint32_t>(m.datasets.size());
      listing.blocks.push_back(std::move(m.block));
    }
    std::sort(listing.blocks.begin(), listing.blocks.end(),
              [](const IndexedBlock& a, const IndexedBlock& b) { return a.key < b.key; });
    return listing;
  }

 private:
  static std::string String(const v1::BlockMeta& meta, int32_t ref) {
    if (ref <= 0 || ref >= meta.string_table_size()) return "";
    return meta.string_table(ref);
  }

  metastore::MetastoreClient& client_;
  const ListIndexOptions& options_;
  std::map<std::string, Merged> blocks_;  // by id
};

}  // namespace

absl::StatusOr<IndexListing> ListIndex(metastore::MetastoreClient& client,
                                       const ListIndexOptions& options) {
  if (options.end_ms < options.start_ms) {
    return absl::InvalidArgumentError("the time range ends before it starts");
  }
  std::vector<std::string> tenants = options.tenants;
  if (tenants.empty()) {
    v1::GetTenantsRequest request;
    v1::GetTenantsResponse response;
    const CallContext ctx = ListCall(options.deadline);
    absl::Status status = AwaitMetastore(
        [&](UnaryDone done) { client.GetTenants(ctx, request, &response, std::move(done)); });
    if (!status.ok()) return Annotate(status, "metastore GetTenants");
    tenants.assign(response.tenant_ids().begin(), response.tenant_ids().end());
  }
  std::sort(tenants.begin(), tenants.end());
  tenants.erase(std::unique(tenants.begin(), tenants.end()), tenants.end());
  Lister lister(client, options);
  for (const std::string& tenant : tenants) {
    EMBERS_RETURN_IF_ERROR(lister.Query(tenant, options.start_ms, options.end_ms));
  }
  IndexListing listing = lister.Finish(std::move(tenants));
  if (options.include_tombstones) {
    v1::GetCompactionStatusRequest request;
    request.set_include_tombstones(true);
    v1::GetCompactionStatusResponse response;
    const CallContext ctx = ListCall(options.deadline);
    absl::Status status = AwaitMetastore([&](UnaryDone done) {
      client.GetCompactionStatus(ctx, request, &response, std::move(done));
    });
    if (!status.ok() && !absl::IsUnimplemented(status)) {
      return Annotate(status, "metastore GetCompactionStatus");
    }
    for (const v1::BlockTombstones& t : response.status().tombstoned()) {
      for (const std::string& id : t.blocks()) {
        listing.tombstoned_keys.push_back(
            block::ObjectKey(t.compaction_level(), t.shard(), t.tenant(), id));
      }
    }
    std::sort(listing.tombstoned_keys.begin(), listing.tombstoned_keys.end());
  }
  return listing;
}

}  // namespace embers::cli
