// libFuzzer entry point for the metastore snapshot container (fsm_snapshot_format.h): snapshots
// arrive from the leader over the network (InstallSnapshot) and from files on disk, so the
// parser must refuse anything malformed without crashing or allocating without bound.
//
// The input is parsed as a snapshot. It is also used as a recipe for a valid one: its bytes
// become two sections written through FsmSnapshotWriter in pieces whose size the first byte
// picks; that snapshot must parse back to the same sections, and with one byte flipped (chosen
// by the input) it must still not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "metastore/raft/fsm_snapshot_format.h"

using embers::metastore::raft::FsmSection;
using embers::metastore::raft::FsmSnapshotScratch;
using embers::metastore::raft::FsmSnapshotWriter;
using embers::metastore::raft::ParseFsmSnapshot;
using embers::metastore::raft::SnapshotOutput;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string storage;
  (void)ParseFsmSnapshot(input, &storage);
  if (size == 0) return 0;

  const size_t piece = 1 + data[0] % 64;
  const std::string_view header = input.substr(1, (size - 1) / 2);
  const std::string_view index = input.substr(1 + header.size());
  static FsmSnapshotScratch scratch;
  SnapshotOutput out;
  out.Reserve(64);
  {
    FsmSnapshotWriter writer(&scratch, &out);
    for (auto [tag, bytes] :
         {std::pair{FsmSection::kHeader, header}, {FsmSection::kIndex, index}}) {
      writer.AddSection(tag, [&, b = bytes](FsmSnapshotWriter::Sink sink) {
        for (size_t at = 0; at < b.size(); at += piece) sink(b.substr(at, piece));
      });
    }
    writer.Finish();
  }
  std::string snapshot = out.ToString();
  auto sections = ParseFsmSnapshot(snapshot, &storage);
  if (!sections.ok() || sections->size() != 2 || sections->at(FsmSection::kHeader) != header ||
      sections->at(FsmSection::kIndex) != index) {
    std::abort();
  }
  snapshot[size % snapshot.size()] ^= static_cast<char>(1 | data[size - 1]);
  (void)ParseFsmSnapshot(snapshot, &storage);
  return 0;
}
