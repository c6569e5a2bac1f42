// The status page: the metastore (Raft nodes and leader, index size, snapshots), compaction
// (blocks and jobs per level, running and parked jobs, deletions) and the cluster (members,
// adaptive placement), read from the server's GET /metastore/status and /cluster/status — the
// same JSON operators curl — and shown as tables. A process that runs no metastore (a cluster's
// query-frontend) serves the leader's through its metastore client (server/
// remote_metastore_status.h); when no metastore answers, the page says so.
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.ts';
import { formatTime, TimeZone } from './time_range.ts';

type Json = Record<string, any>;
type Cell = string | number | boolean | null | undefined;

function Table({ caption, columns, rows, testid }: {
  caption: string; columns: string[]; rows: Cell[][]; testid: string;
}) {
  return (
    <table class="status-table" data-testid={testid}>
      <caption>{caption}</caption>
      <thead><tr>{columns.map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
      <tbody>
        {rows.length === 0
          ? <tr><td colSpan={columns.length} class="empty">none</td></tr>
          : rows.map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{c === true ? 'yes' : c === false ? 'no' : c ?? ''}</td>)}</tr>)}
      </tbody>
    </table>
  );
}

const when = (ms: number | undefined, tz: TimeZone) => (ms ? formatTime(ms, tz) : '');
const memberKind = (k: string | number) => String(k).replace(/^MEMBER_KIND_/, '').toLowerCase().replace(/_/g, '-');
const memberState = (s: string | number) => String(s).replace(/^MEMBER_STATE_/, '').toLowerCase();

function MetastoreStatus({ s, tz }: { s: Json; tz: TimeZone }) {
  const c = s.compaction ?? {};
  const job = (j: Json, state: string): Cell[] => [j.name, state, j.compaction_level ?? 0, j.tenant, j.shard ?? 0,
    (j.source_blocks ?? []).length, j.worker, j.failures ?? 0, j.last_error];
  return (
    <section aria-label="Metastore">
      <h2>Metastore</h2>
      <Table caption="This node" testid="status-node"
        columns={['node', 'state', 'term', 'leader', 'ready', 'commit', 'applied', 'blocks', 'partitions', 'snapshots taken']}
        rows={[[s.node_id, s.state, s.term, s.leader_grpc_address || s.leader_address, s.ready, s.commit_index,
          s.applied_index, s.blocks, s.partitions, s.snapshots?.taken ?? 0]]} />
      <Table caption="Raft nodes" testid="status-nodes" columns={['id', 'raft address', 'gRPC address', 'role', 'leader']}
        rows={(s.nodes ?? []).map((n: Json) => [n.id, n.address, n.grpc_address, n.role, n.leader])} />
      <h2>Compaction</h2>
      <Table caption="Levels" testid="status-levels"
        columns={['level', 'blocks', 'queued blocks', 'oldest queued (s)', 'jobs queued', 'running', 'parked', 'completed']}
        rows={(c.levels ?? []).map((l: Json) => [l.level, l.blocks, l.queued_blocks, Math.round((l.oldest_queued_age_ms ?? 0) / 1000),
          l.jobs_queued, l.jobs_running, l.jobs_parked, l.jobs_completed])} />
      <Table caption="Jobs" testid="status-jobs"
        columns={['job', 'state', 'level', 'tenant', 'shard', 'sources', 'worker', 'failures', 'last error']}
        rows={[...(c.running_jobs ?? []).map((j: Json) => job(j, 'running')), ...(c.parked_jobs ?? []).map((j: Json) => job(j, 'parked'))]} />
      <Table caption="Deletion" testid="status-deletion" columns={['tombstones', 'deleted objects', 'deleted bytes']}
        rows={[[c.tombstones ?? 0, c.deleted_objects ?? 0, c.deleted_bytes ?? 0]]} />
      <p class="status-meta">Last snapshot: index {s.last_snapshot?.index ?? 0}{s.snapshots?.last_total_ms ? ` (${s.snapshots.last_total_ms.toFixed(1)} ms)` : ''}. Loaded at {when(Date.now(), tz)}.</p>
    </section>
  );
}

function ClusterStatus({ s, tz }: { s: Json; tz: TimeZone }) {
  const members = s.cluster?.members ?? [];
  const datasets = s.cluster?.placement_rules?.datasets ?? [];
  return (
    <section aria-label="Cluster">
      <h2>Cluster</h2>
      <Table caption={`Members (view version ${s.cluster?.version ?? 0})`} testid="status-members"
        columns={['kind', 'slot', 'id', 'address', 'state', 'heartbeat age (ms)', 'joined']}
        rows={members.map((m: Json) => [memberKind(m.kind), m.slot ?? 0, m.id, m.address, memberState(m.state),
          // -1: only the leader tracks heartbeats (a page served by a query-frontend shows none).
          Number(m.last_heartbeat_age_ms) < 0 ? '-' : m.last_heartbeat_age_ms, when(Number(m.joined_at_ms), tz)])} />
      <Table caption="Adaptive placement (datasets with their own shard count)" testid="status-placement"
        columns={['tenant', 'dataset', 'shards', 'bytes/s']}
        rows={datasets.map((d: Json) => [d.tenant, d.dataset, d.dataset_shards, Math.round(d.usage_bytes_per_second ?? 0)])} />
    </section>
  );
}

export function StatusView({ tz, refresh, onRefresh }: { tz: TimeZone; refresh: number; onRefresh: () => void }) {
  const [metastore, setMetastore] = useState<Json | string | null>(null);
  const [cluster, setCluster] = useState<Json | string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    const load = (path: string, set: (v: Json | string) => void) =>
      api.getJson(path, ctl.signal).then(set, (e) => { if ((e as Error).name !== 'AbortError') set((e as Error).message); });
    load('/metastore/status', setMetastore);
    load('/cluster/status', setCluster);
    return () => ctl.abort();
  }, [refresh]);
  const failed = (what: string, v: string) => (
    <p class="status-unavailable" role="status" data-testid="status-unavailable">
      {what}: {v}. Is the metastore up? (`/metastore/status` on a metastore node tells.)
    </p>
  );
  return (
    <main class="status-view" data-testid="status-view">
      <div class="status-actions">
        <button type="button" onClick={onRefresh}>Refresh</button>
        <span>Raw JSON: <a href="/metastore/status">metastore</a> · <a href="/cluster/status">cluster</a></span>
      </div>
      {metastore === null ? <p>Loading…</p> : typeof metastore === 'string' ? failed('Metastore status', metastore) : <MetastoreStatus s={metastore} tz={tz} />}
      {cluster === null ? null : typeof cluster === 'string' ? failed('Cluster status', cluster) : <ClusterStatus s={cluster} tz={tz} />}
    </main>
  );
}
