#include "cmd/cli/bucket/bucket_commands.h"

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status.h"
#include "cmd/cli/bucket/bucket_report_tables.h"
#include "cmd/cli/bucket/bucket_verifier.h"
#include "cmd/cli/bucket/index_listing.h"
#include "cmd/cli/bucket/object_inspection.h"
#include "cmd/cli/bucket/single_object_bucket.h"
#include "cmd/cli/exit_code.h"
#include "cmd/cli/progress_meter.h"
#include "metastore/client/metastore_client.h"

namespace embers::cli {
namespace {

struct InspectOptions {
  std::string target;
};

struct VerifyCommandOptions {
  bool no_index = false;
  std::string orphan_min_age = "1h";
  int concurrency = 4;
  bool deep = false;
};

absl::Status RunInspect(CliContext& context, const InspectOptions& o) {
  // A local file (a block.bin copied out of a bucket) is read as it is; anything else is a key of
  // the configured bucket.
  std::error_code error;
  if (std::filesystem::is_regular_file(o.target, error)) {
    EMBERS_ASSIGN_OR_RETURN(std::unique_ptr<SingleObjectBucket> file,
                            SingleObjectBucket::OpenFile(o.target));
    EMBERS_ASSIGN_OR_RETURN(ObjectInspection inspection, InspectObject(*file, o.target));
    context.Print(InspectionSections(inspection));
    return absl::OkStatus();
  }
  EMBERS_ASSIGN_OR_RETURN(objstore::Bucket * bucket, context.Bucket());
  absl::StatusOr<ObjectInspection> inspection = InspectObject(*bucket, o.target);
  if (absl::IsNotFound(inspection.status())) {
    return Annotate(inspection.status(), "not a local file, and not in the bucket");
  }
  if (!inspection.ok()) return inspection.status();
  context.Print(InspectionSections(*inspection));
  return absl::OkStatus();
}

absl::Status RunVerify(CliContext& context, const VerifyCommandOptions& o) {
  VerifyOptions options;
  if (!absl::ParseDuration(o.orphan_min_age, &options.orphan_min_age) ||
      options.orphan_min_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--orphan-min-age \"", o.orphan_min_age, "\" is not a duration like 1h"));
  }
  if (o.concurrency < 1) return absl::InvalidArgumentError("--concurrency must be at least 1");
  options.concurrency = o.concurrency;
  options.check.deep = o.deep;
  EMBERS_ASSIGN_OR_RETURN(objstore::Bucket * bucket, context.Bucket());

  IndexSource index;
  if (!o.no_index) {
    EMBERS_ASSIGN_OR_RETURN(metastore::MetastoreClient * client, context.Metastore());
    index = [&context, client]() -> absl::StatusOr<IndexListing> {
      ListIndexOptions list;
      list.deadline = absl::Now() + context.options().timeout;
      list.include_tombstones = true;
      absl::StatusOr<IndexListing> listing = ListIndex(*client, list);
      if (!listing.ok()) {
        return context.MetastoreError(listing.status(),
                                      ", or pass --no-index to check the objects only");
      }
      return listing;
    };
  }

  std::unique_ptr<ProgressMeter> progress;
  const ProgressMeter::Mode mode = context.options().quiet         ? ProgressMeter::Mode::kOff
                                   : context.InteractiveProgress() ? ProgressMeter::Mode::kTerminal
                                                                   : ProgressMeter::Mode::kLines;
  options.on_start = [&](uint64_t items, uint64_t bytes) {
    progress = std::make_unique<ProgressMeter>("verify", items, bytes, mode);
  };
  options.on_progress = [&](uint64_t items, uint64_t bytes) { progress->Add(items, bytes); };
  absl::StatusOr<VerifyReport> report = VerifyBucket(*bucket, index, options);
  if (progress != nullptr) progress->Finish();
  if (!report.ok()) return report.status();

  context.Print(VerifySections(*report));
  if (!report->ok()) {
    using Kind = VerifyFinding::Kind;
    return CheckFailedError(absl::StrCat(
        "bucket verify found ", report->problems(), " problem(s): ", report->Count(Kind::kCorrupt),
        " corrupt, ", report->Count(Kind::kUnreadable), " unreadable, ",
        report->Count(Kind::kMissing), " missing, ", report->Count(Kind::kOrphan), " orphan(s)"));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterBucketCommands(CLI::App& root, CliContext& context) {
  CLI::App* bucket = root.add_subcommand(
      "bucket", "read the bucket directly (the --storage.* options name it): inspect, verify");
  bucket->require_subcommand(1);

  auto inspect_options = std::make_shared<InspectOptions>();
  CLI::App* inspect = bucket->add_subcommand(
      "inspect",
      "what one object holds: its footer (format version, id, tenant, shard, level, time range, "
      "size, writer) and per dataset the section sizes, series, profile rows, samples and symbol "
      "counts; every section is decoded (and its checksum verified) on the way");
  inspect
      ->add_option("object", inspect_options->target,
                   "an object key of the bucket (segments/…/block.bin, blocks/…/block.bin), or "
                   "the path of a local block.bin file")
      ->required();
  inspect->callback([&context, inspect_options] {
    context.SetCommand(
        [&context, inspect_options] { return RunInspect(context, *inspect_options); });
  });

  auto verify_options = std::make_shared<VerifyCommandOptions>();
  CLI::App* verify = bucket->add_subcommand(
      "verify",
      "check every object of the bucket (footer and section checksums) and compare the bucket "
      "with the metastore's index: orphans (objects no indexed block names) and missing objects "
      "(indexed blocks without their object); segments parked under dlq/ are listed. Read-only. "
      "Exit code 5 when a problem is found.");
  verify->add_flag("--no-index", verify_options->no_index,
                   "do not compare with the index (when no metastore is reachable)");
  verify
      ->add_option("--orphan-min-age", verify_options->orphan_min_age,
                   "unindexed objects younger than this (by their ULID's time) are not orphans: a "
                   "segment is written before it is indexed")
      ->capture_default_str();
  verify->add_option("--concurrency", verify_options->concurrency, "objects checked at once")
      ->capture_default_str();
  verify->add_flag("--deep", verify_options->deep,
                   "also decode every section (series, every profile row, symbols), as queries "
                   "and compaction read them; slower");
  verify->callback([&context, verify_options] {
    context.SetCommand([&context, verify_options] { return RunVerify(context, *verify_options); });
  });
}

}  // namespace embers::cli
