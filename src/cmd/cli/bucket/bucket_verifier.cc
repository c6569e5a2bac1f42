#include "cmd/cli/bucket/bucket_verifier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "base/status.h"
#include "base/strings.h"
#include "cmd/cli/bucket/bucket_key.h"

namespace embers::cli {
namespace {

using Kind = VerifyFinding::Kind;

// One object listed under segments/ or blocks/.
struct Task {
  std::string key;
  std::optional<BucketKey> parsed;  // none for a key outside the layout
  uint64_t expected_size = 0;       // from the index; 0 unknown
  absl::Status status;              // of CheckObject
};

// The index by object key.
std::map<std::string, IndexedBlock> ByKey(IndexListing listing) {
  std::map<std::string, IndexedBlock> out;
  for (IndexedBlock& b : listing.blocks) {
    std::string key = b.key;
    out.emplace(std::move(key), std::move(b));
  }
  return out;
}

// "3h05m old", "42s old".
std::string Age(absl::Duration d) {
  if (d < absl::ZeroDuration()) return "dated in the future";
  const int64_t s = absl::ToInt64Seconds(d);
  if (s >= 86400) return StrCat(s / 86400, "d", s % 86400 / 3600, "h old");
  if (s >= 3600) return StrCat(s / 3600, "h", s % 3600 / 60, "m old");
  if (s >= 60) return StrCat(s / 60, "m", s % 60, "s old");
  return StrCat(s, "s old");
}

absl::Duration AgeOf(const BucketKey& key, absl::Time now) {
  return now - absl::FromUnixMillis(static_cast<int64_t>(key.ulid.TimeMs()));
}

// Checks the tasks on `concurrency` threads.
void CheckAll(objstore::Bucket& bucket, std::vector<Task>& tasks, const VerifyOptions& options,
              std::atomic<uint64_t>& bytes) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= tasks.size()) return;
      Task& t = tasks[i];
      t.status = CheckObject(bucket, t.key, t.expected_size, options.check, [&](uint64_t n) {
        bytes.fetch_add(n, std::memory_order_relaxed);
        if (options.on_progress) options.on_progress(0, n);
      });
      if (options.on_progress) options.on_progress(1, 0);
    }
  };
  const size_t threads =
      std::min<size_t>(static_cast<size_t>(std::max(options.concurrency, 1)), tasks.size());
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(work);
  work();  // the calling thread is one of them
  for (std::thread& t : pool) t.join();
}

}  // namespace

std::string_view FindingKindName(Kind kind) {
  switch (kind) {
    case Kind::kCorrupt:
      return "corrupt";
    case Kind::kUnreadable:
      return "unreadable";
    case Kind::kMissing:
      return "missing";
    case Kind::kOrphan:
      return "orphan";
    case Kind::kRecent:
      return "recent";
    case Kind::kParked:
      return "parked";
    case Kind::kVanished:
      return "vanished";
    case Kind::kTombstoned:
      return "tombstoned";
  }
  return "?";
}

bool IsProblem(Kind kind) {
  return kind == Kind::kCorrupt || kind == Kind::kUnreadable || kind == Kind::kMissing ||
         kind == Kind::kOrphan;
}

size_t VerifyReport::Count(Kind kind) const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(),
                                           [&](const VerifyFinding& f) { return f.kind == kind; }));
}

size_t VerifyReport::problems() const {
  return static_cast<size_t>(std::count_if(
      findings.begin(), findings.end(), [](const VerifyFinding& f) { return IsProblem(f.kind); }));
}

double VerifyReport::megabytes_per_second() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? static_cast<double>(bytes_checked) / 1e6 / seconds : 0;
}

absl::StatusOr<VerifyReport> VerifyBucket(objstore::Bucket& bucket, const IndexSource& index,
                                          const VerifyOptions& options) {
  const absl::Time started = absl::Now();
  const absl::Time now = options.now == absl::InfinitePast() ? started : options.now;
  VerifyReport report;

  // The index first: an object written after its listing is then at worst an orphan candidate,
  // checked again at the end, never a block the bucket seems to have lost.
  std::map<std::string, IndexedBlock> indexed;
  std::set<std::string> tombstoned;  // replaced or dropped, waiting for the cleanup delay
  if (index) {
    EMBERS_ASSIGN_OR_RETURN(IndexListing listing, index());
    report.index_compared = true;
    report.indexed_blocks = listing.blocks.size();
    tombstoned.insert(listing.tombstoned_keys.begin(), listing.tombstoned_keys.end());
    indexed = ByKey(std::move(listing));
  }

  std::vector<Task> tasks;
  for (std::string_view prefix : {kSegmentsPrefix, kBlocksPrefix}) {
    EMBERS_RETURN_IF_ERROR(bucket.List(prefix, [&](std::string_view key) {
      Task t;
      t.key = std::string(key);
      if (absl::StatusOr<BucketKey> parsed = ParseBucketKey(key); parsed.ok()) {
        t.parsed = *std::move(parsed);
      }
      if (auto it = indexed.find(t.key); it != indexed.end()) t.expected_size = it->second.size;
      tasks.push_back(std::move(t));
      return absl::OkStatus();
    }));
  }
  // Parked segments: segment key → DLQ entry key.
  std::map<std::string, std::string> parked;
  std::vector<std::string> stray_dlq;
  EMBERS_RETURN_IF_ERROR(bucket.List(kDlqPrefix, [&](std::string_view key) {
    absl::StatusOr<BucketKey> parsed = ParseBucketKey(key);
    if (parsed.ok() && parsed->kind == BucketKey::Kind::kDlqEntry) {
      parked.emplace(parsed->ObjectKey(), std::string(key));
    } else {
      stray_dlq.emplace_back(key);
    }
    return absl::OkStatus();
  }));

  // The progress total: the sizes the index gives, the others guessed at their average.
  uint64_t known_bytes = 0;
  size_t known = 0;
  for (const Task& t : tasks) {
    if (t.expected_size > 0) {
      known_bytes += t.expected_size;
      ++known;
    }
  }
  const uint64_t total_bytes =
      known == 0 ? 0 : known_bytes + known_bytes / known * (tasks.size() - known);
  if (options.on_start) options.on_start(tasks.size(), total_bytes);
  std::atomic<uint64_t> bytes{0};
  CheckAll(bucket, tasks, options, bytes);
  report.bytes_checked = bytes.load();

  std::vector<VerifyFinding>& findings = report.findings;
  std::set<std::string> present;  // objects that exist (were read, intact or not)
  for (Task& t : tasks) {
    if (absl::IsNotFound(t.status)) {
      findings.push_back({Kind::kVanished, t.key, "deleted after it was listed"});
      continue;
    }
    ++report.objects_checked;
    present.insert(t.key);
    if (t.status.ok()) continue;
    const bool corrupt = absl::IsDataLoss(t.status) || absl::IsFailedPrecondition(t.status);
    findings.push_back(
        {corrupt ? Kind::kCorrupt : Kind::kUnreadable, t.key, std::string(t.status.message())});
  }

  for (const auto& [segment, entry] : parked) {
    std::string detail = StrCat("parked in ", entry, ": ");
    Kind kind = Kind::kParked;
    if (!present.contains(segment)) {
      // The metastore would index a block without its object: a missing block in the making
      // (unless the segment was written after the listing).
      EMBERS_ASSIGN_OR_RETURN(bool exists, bucket.Exists(segment));
      if (exists) {
        detail += "written during the check (not checked)";
      } else {
        kind = Kind::kMissing;
        detail += "its object is gone";
      }
    } else if (report.index_compared && indexed.contains(segment)) {
      detail += "indexed since; the metastore removes the entry on its next pass";
    } else {
      detail += "the metastore indexes it on its next pass";
    }
    findings.push_back({kind, segment, std::move(detail)});
  }

  if (report.index_compared) {
    std::vector<const Task*> orphans;
    for (const Task& t : tasks) {
      if (!present.contains(t.key) || indexed.contains(t.key) || parked.contains(t.key)) continue;
      if (t.parsed.has_value()) {
        const absl::Duration age = AgeOf(*t.parsed, now);
        if (age < options.orphan_min_age) {
          findings.push_back({Kind::kRecent, t.key, StrCat("not indexed yet, ", Age(age))});
          continue;
        }
      }
      orphans.push_back(&t);
    }
    std::vector<const IndexedBlock*> missing;
    for (const auto& [key, block] : indexed) {
      if (!present.contains(key)) missing.push_back(&block);
    }

    // The index and the bucket moved on while the objects were read: look again at the
    // candidates before calling them problems.
    std::map<std::string, IndexedBlock> fresh;
    if (!orphans.empty() || !missing.empty()) {
      EMBERS_ASSIGN_OR_RETURN(IndexListing listing, index());
      tombstoned.insert(listing.tombstoned_keys.begin(), listing.tombstoned_keys.end());
      fresh = ByKey(std::move(listing));
    }
    for (const Task* t : orphans) {
      if (fresh.contains(t->key)) continue;  // indexed during the check
      if (tombstoned.contains(t->key)) {
        findings.push_back({Kind::kTombstoned, t->key,
                            "replaced by compaction or dropped by retention; deleted after "
                            "-compaction.cleanup-delay"});
        continue;
      }
      EMBERS_ASSIGN_OR_RETURN(bool exists, bucket.Exists(t->key));
      if (!exists) {
        findings.push_back({Kind::kVanished, t->key, "deleted during the check"});
        continue;
      }
      std::string detail = t->parsed.has_value()
                               ? StrCat("no indexed block names it; ", Age(AgeOf(*t->parsed, now)))
                               : "not a key Embers writes, and no indexed block names it";
      findings.push_back({Kind::kOrphan, t->key, std::move(detail)});
    }
    for (const IndexedBlock* b : missing) {
      if (!fresh.contains(b->key)) continue;  // removed from the index during the check
      EMBERS_ASSIGN_OR_RETURN(bool exists, bucket.Exists(b->key));
      if (exists) {
        findings.push_back({Kind::kRecent, b->key, "written during the check (not checked)"});
        continue;
      }
      findings.push_back({Kind::kMissing, b->key,
                          StrCat("indexed block ", b->id, " (level ", b->level, ", tenants ",
                                 Join(b->tenants, ","), ", ", b->size, " bytes) has no object")});
    }
    for (const std::string& key : stray_dlq) {
      findings.push_back({Kind::kOrphan, key, "not a DLQ entry Embers writes"});
    }
  }

  std::sort(findings.begin(), findings.end(), [](const VerifyFinding& a, const VerifyFinding& b) {
    return std::tie(a.kind, a.key) < std::tie(b.kind, b.key);
  });
  report.elapsed = absl::Now() - started;
  return report;
}

}  // namespace embers::cli
