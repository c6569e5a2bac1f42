// `embers-cli admin …`: what the metastore holds, over its internal gRPC services (the port of
// -server.internal-grpc-listen-port, with the cluster secret when one is set): Raft nodes and
// leader, members, compaction, and the block index (`admin blocks ls`).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/time/clock.h"
#include "base/status.h"
#include "base/strings.h"
#include "cmd/cli/bucket/index_listing.h"
#include "cmd/cli/commands.h"
#include "cmd/cli/metastore_call.h"
#include "cmd/cli/time_range.h"
#include "metastore/client/metastore_client.h"
#include "metastore/v1/compaction.pb.h"
#include "metastore/v1/membership.pb.h"

namespace embers::cli {
namespace {

namespace v1 = metastore::v1;

// NodeInfo answers at once or not at all; the other calls follow the leader within this.
constexpr absl::Duration kNodeInfoTimeout = absl::Seconds(5);

CallContext AdminCall(const CliContext& context) {
  CallContext ctx;
  ctx.tenant = "anonymous";
  ctx.deadline = absl::Now() + std::min(context.options().timeout, absl::Seconds(20));
  return ctx;
}

std::string FormatTimeMs(int64_t ms) {
  if (ms <= 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string MemberKindName(v1::MemberKind kind) {
  switch (kind) {
    case v1::MEMBER_KIND_SEGMENT_WRITER:
      return "segment-writer";
    case v1::MEMBER_KIND_QUERY_BACKEND:
      return "query-backend";
    case v1::MEMBER_KIND_COMPACTION_WORKER:
      return "compaction-worker";
    default:
      return "unknown";
  }
}

std::string MemberStateName(v1::MemberState state) {
  std::string name = v1::MemberState_Name(state);
  if (name.starts_with("MEMBER_STATE_")) name = name.substr(13);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

absl::Status RunStatus(CliContext& context) {
  EMBERS_ASSIGN_OR_RETURN(metastore::MetastoreClient * client, context.Metastore());
  // Every node we can learn of: the given addresses, then the peers their answers name.
  std::vector<v1::NodeInfoResponse> infos;
  std::vector<std::pair<std::string, absl::Status>> failures;
  std::set<std::string> asked;
  auto ask = [&](std::string address) {
    if (address.starts_with("dns+")) address = address.substr(4);  // one of its records
    if (address.empty() || !asked.insert(address).second) return;
    v1::NodeInfoResponse info;
    absl::Status st = AwaitMetastore([&](UnaryDone done) {
      client->NodeInfo(address, kNodeInfoTimeout, &info, std::move(done));
    });
    if (st.ok()) {
      infos.push_back(std::move(info));
    } else {
      failures.emplace_back(address, st);
    }
  };
  for (const std::string& a : context.MetastoreAddresses()) ask(a);
  for (size_t i = 0; i < infos.size(); ++i) {
    for (const auto& peer : infos[i].peers()) ask(peer.grpc_address());
  }
  if (infos.empty()) {
    if (!failures.empty()) return context.MetastoreError(failures.front().second);
    return context.MetastoreError(absl::UnavailableError("no node answered"));
  }
  Table nodes({"id", "address", "state", "leader", "term", "commit", "applied", "blocks",
               "partitions", "dlq_parked", "ready", "snapshot_index"});
  for (const auto& n : infos) {
    nodes.AddRow({static_cast<int64_t>(n.node_id()), n.grpc_address(), n.state(),
                  n.leader_grpc_address(), static_cast<int64_t>(n.term()),
                  static_cast<int64_t>(n.commit_index()), static_cast<int64_t>(n.applied_index()),
                  static_cast<int64_t>(n.blocks()), static_cast<int64_t>(n.partitions()),
                  n.dlq_parked() < 0 ? std::string("-") : StrCat(n.dlq_parked()),
                  std::string(n.ready() ? "yes" : "no"), static_cast<int64_t>(n.snapshot_index())});
  }
  // Peers whose gRPC address no node knows (a node registers it when it leads): listed by their
  // Raft address, so the table still shows every voter.
  std::set<uint64_t> seen_ids;
  for (const auto& n : infos) seen_ids.insert(n.node_id());
  for (const auto& n : infos) {
    for (const auto& peer : n.peers()) {
      if (!peer.grpc_address().empty() || !seen_ids.insert(peer.id()).second) continue;
      nodes.AddRow({static_cast<int64_t>(peer.id()), StrCat("raft ", peer.raft_address()),
                    "not asked: its gRPC address is unknown (add it to --metastore-address)", "",
                    int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0}, "-", "?",
                    int64_t{0}});
    }
  }
  for (const auto& [address, st] : failures) {
    nodes.AddRow({int64_t{0}, address, StrCat("unreachable: ", st.message()), "", int64_t{0},
                  int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0}, "-", "no", int64_t{0}});
  }
  std::vector<TableSection> sections;
  sections.emplace_back("metastore nodes", std::move(nodes));

  v1::WatchClusterRequest watch;  // min_version 0, wait 0: the current view at once
  v1::ClusterView view;
  absl::Status st = AwaitMetastore([&](UnaryDone done) {
    client->WatchCluster(AdminCall(context), watch, &view, std::move(done));
  });
  Table members({"kind", "slot", "id", "address", "state", "heartbeat_age_ms", "joined"});
  if (st.ok()) {
    for (const auto& m : view.members()) {
      members.AddRow(
          {MemberKindName(m.kind()), static_cast<int64_t>(m.slot()), m.id(), m.address(),
           MemberStateName(m.state()),
           // -1: only the leader tracks heartbeats, and this view may be a follower's.
           m.last_heartbeat_age_ms() < 0 ? std::string("-") : StrCat(m.last_heartbeat_age_ms()),
           FormatTimeMs(m.joined_at_ms())});
    }
  } else if (!absl::IsUnimplemented(st)) {
    return context.MetastoreError(st);
  }
  sections.emplace_back("members", std::move(members));

  const v1::GetTenantsRequest tenants_request;
  v1::GetTenantsResponse tenants;
  st = AwaitMetastore([&](UnaryDone done) {
    client->GetTenants(AdminCall(context), tenants_request, &tenants, std::move(done));
  });
  if (!st.ok()) return context.MetastoreError(st);
  Table tenant_table({"tenant", "blocks", "datasets", "bytes", "oldest", "newest"});
  for (const std::string& tenant : tenants.tenant_ids()) {
    v1::GetTenantRequest request;
    request.set_tenant_id(tenant);
    v1::GetTenantResponse stats;
    st = AwaitMetastore([&](UnaryDone done) {
      client->GetTenant(AdminCall(context), request, &stats, std::move(done));
    });
    if (!st.ok()) return context.MetastoreError(st);
    const auto& s = stats.stats();
    tenant_table.AddRow(
        {tenant, static_cast<int64_t>(s.block_count()), static_cast<int64_t>(s.dataset_count()),
         static_cast<int64_t>(s.data_bytes()), FormatTimeMs(s.oldest_profile_time()),
         FormatTimeMs(s.newest_profile_time())});
  }
  sections.emplace_back("tenants", std::move(tenant_table));
  context.Print(sections);
  return absl::OkStatus();
}

absl::Status RunCompactionStatus(CliContext& context) {
  EMBERS_ASSIGN_OR_RETURN(metastore::MetastoreClient * client, context.Metastore());
  const v1::GetCompactionStatusRequest request;
  v1::GetCompactionStatusResponse response;
  absl::Status st = AwaitMetastore([&](UnaryDone done) {
    client->GetCompactionStatus(AdminCall(context), request, &response, std::move(done));
  });
  if (absl::IsUnimplemented(st)) {
    return absl::UnimplementedError("compaction is not available on this server");
  }
  if (!st.ok()) return context.MetastoreError(st);
  const v1::CompactionStatus& s = response.status();
  Table levels({"level", "blocks", "queued_blocks", "oldest_queued_age_s", "jobs_queued",
                "jobs_running", "jobs_parked", "jobs_completed"});
  for (const auto& l : s.levels()) {
    levels.AddRow({static_cast<int64_t>(l.level()), static_cast<int64_t>(l.blocks()),
                   static_cast<int64_t>(l.queued_blocks()), l.oldest_queued_age_ms() / 1000,
                   static_cast<int64_t>(l.jobs_queued()), static_cast<int64_t>(l.jobs_running()),
                   static_cast<int64_t>(l.jobs_parked()),
                   static_cast<int64_t>(l.jobs_completed())});
  }
  Table cleanup({"tombstones", "deleted_objects", "deleted_bytes"});
  cleanup.AddRow({static_cast<int64_t>(s.tombstones()), static_cast<int64_t>(s.deleted_objects()),
                  static_cast<int64_t>(s.deleted_bytes())});
  Table jobs(
      {"job", "state", "level", "tenant", "shard", "sources", "worker", "failures", "last_error"});
  auto add_job = [&](const v1::CompactionJobState& j, const char* state) {
    jobs.AddRow({j.name(), std::string(state), static_cast<int64_t>(j.compaction_level()),
                 j.tenant(), static_cast<int64_t>(j.shard()),
                 static_cast<int64_t>(j.source_blocks_size()), j.worker(),
                 static_cast<int64_t>(j.failures()), j.last_error()});
  };
  for (const auto& j : s.running_jobs()) add_job(j, "running");
  for (const auto& j : s.parked_jobs()) add_job(j, "parked");
  context.Print(std::vector<TableSection>{
      {"levels", std::move(levels)}, {"cleanup", std::move(cleanup)}, {"jobs", std::move(jobs)}});
  return absl::OkStatus();
}

struct BlocksOptions {
  std::vector<std::string> tenants;
  std::string from = "now-24h";
  std::string to = "now";
  int level = -1;
  std::string query = "{}";
};

absl::Status RunBlocksList(CliContext& context, const BlocksOptions& o) {
  EMBERS_ASSIGN_OR_RETURN(TimeRange range, ParseTimeRange(o.from, o.to, absl::Now()));
  EMBERS_ASSIGN_OR_RETURN(metastore::MetastoreClient * client, context.Metastore());
  ListIndexOptions options;
  options.tenants = o.tenants;
  if (options.tenants.empty() && !context.options().tenant_id.empty()) {
    options.tenants = {context.options().tenant_id};
  }
  options.start_ms = range.start_ms;
  options.end_ms = range.end_ms;
  options.level = o.level;
  options.query = o.query;
  options.deadline = absl::Now() + context.options().timeout;
  absl::StatusOr<IndexListing> listing = ListIndex(*client, options);
  if (!listing.ok()) return context.MetastoreError(listing.status());
  Table table(
      {"block", "level", "shard", "tenants", "min_time", "max_time", "datasets", "size", "key"});
  for (const IndexedBlock& b : listing->blocks) {
    table.AddRow({b.id, static_cast<int64_t>(b.level), static_cast<int64_t>(b.shard),
                  Join(b.tenants, ","), FormatTimeMs(b.min_time_ms), FormatTimeMs(b.max_time_ms),
                  static_cast<int64_t>(b.datasets), static_cast<int64_t>(b.size), b.key});
  }
  context.Print(table);
  return absl::OkStatus();
}

}  // namespace

void RegisterAdminCommands(CLI::App& root, CliContext& context) {
  CLI::App* admin = root.add_subcommand(
      "admin", "what the metastore holds (internal gRPC port: --metastore-address)");
  admin->require_subcommand(1);

  admin->add_subcommand("status", "metastore nodes, leader, terms, blocks, DLQ, members, tenants")
      ->callback([&context] { context.SetCommand([&context] { return RunStatus(context); }); });

  CLI::App* compaction = admin->add_subcommand("compaction", "the compaction planner");
  compaction->require_subcommand(1);
  compaction->add_subcommand("status", "blocks and jobs per level, running and parked jobs")
      ->callback(
          [&context] { context.SetCommand([&context] { return RunCompactionStatus(context); }); });

  CLI::App* blocks = admin->add_subcommand("blocks", "the block index");
  blocks->require_subcommand(1);
  auto o = std::make_shared<BlocksOptions>();
  CLI::App* ls =
      blocks->add_subcommand("ls", "blocks the index holds for tenants, a range, a level");
  ls->add_option("--tenant", o->tenants,
                 "tenant(s) (repeatable; default --tenant-id, else every tenant)");
  ls->add_option("--from", o->from, "start")->capture_default_str();
  ls->add_option("--to", o->to, "end")->capture_default_str();
  ls->add_option("--level", o->level, "compaction level only (-1: all)")->capture_default_str();
  ls->add_option("--query,-l", o->query, "only blocks with datasets matching this selector")
      ->capture_default_str();
  ls->callback(
      [&context, o] { context.SetCommand([&context, o] { return RunBlocksList(context, *o); }); });
}

}  // namespace embers::cli
