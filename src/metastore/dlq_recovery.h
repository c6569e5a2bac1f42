// DlqRecovery: re-adds block metadata that segment-writers parked in the bucket's dlq/ prefix
// while the metastore was unreachable (DESIGN §2, reference §6.7).
//
// Each pass lists dlq/, adds every parked BlockMeta through the IndexService (AddBlock is
// idempotent, so a block that did get indexed after all is harmless) and deletes the DLQ object
// once the block is indexed. An entry that does not parse is recovered from the footer of the
// object it names (the same metadata is embedded there); when that is gone or unreadable too, or
// the index rejects the metadata as invalid, the entry is deleted and counted
// (embers_metastore_dlq_discarded_total), so dlq/ cannot fill with entries retried forever.
// Transient errors leave the entry for the next pass. Runs on the metastore leader every
// -metastore.index.dlq-recovery-check-interval (15 s).
#ifndef EMBERS_METASTORE_DLQ_RECOVERY_H_
#define EMBERS_METASTORE_DLQ_RECOVERY_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "metastore/index_service.h"
#include "objstore/bucket.h"

namespace embers::metastore {

class DlqRecovery {
 public:
  // `active` (optional) is asked before each periodic pass; a pass runs only when it says yes
  // (the metastore passes "this node is the ready leader", so followers do not try adds that
  // would be refused).
  DlqRecovery(objstore::Bucket* bucket, IndexService* index, absl::Duration interval,
              std::function<bool()> active = nullptr)
      : bucket_(bucket), index_(index), interval_(interval), active_(std::move(active)) {}
  ~DlqRecovery() { Stop(); }

  // One pass. Returns how many blocks were recovered; errors of single objects are logged and
  // leave the object for the next pass.
  absl::StatusOr<int> RecoverOnce();

  void Start();
  void Stop();

  // Entries still parked after the last pass (-1 before the first); shown by NodeInfo and
  // `embers-cli admin status`.
  int64_t parked() const { return parked_.load(std::memory_order_relaxed); }

 private:
  objstore::Bucket* bucket_;
  IndexService* index_;
  absl::Duration interval_;
  std::function<bool()> active_;
  std::atomic<int64_t> parked_{-1};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_DLQ_RECOVERY_H_
