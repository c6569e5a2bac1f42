#include "ingest/push_adapter.h"

#include <algorithm>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {

absl::StatusOr<std::vector<IngestProfile>> ConvertPushRequest(const push::v1::PushRequest& request,
                                                              const pprof::DecodeOptions& options,
                                                              size_t max_total_bytes) {
  std::vector<IngestProfile> out;
  size_t decoded_bytes = 0;
  pprof::DecodeOptions bounded = options;
  for (int s = 0; s < request.series_size(); ++s) {
    const push::v1::RawProfileSeries& series = request.series(s);
    std::vector<model::Label> labels;
    labels.reserve(series.labels_size());
    for (const auto& l : series.labels()) labels.push_back({l.name(), l.value()});
    // Duplicate names are caught by the distributor's label validation; keep them visible to it
    // by building the Labels only after checking here.
    for (size_t i = 0; i < labels.size(); ++i) {
      for (size_t j = i + 1; j < labels.size(); ++j) {
        if (labels[i].name == labels[j].name) {
          return absl::InvalidArgumentError(
              StrCat("series ", s, ": duplicate label name \"", labels[i].name, "\""));
        }
      }
    }
    model::Labels series_labels(std::move(labels));
    for (int i = 0; i < series.samples_size(); ++i) {
      const std::string& raw = series.samples(i).raw_profile();
      // The budget left, when it is tighter than the per-profile limit.
      const size_t left = decoded_bytes >= max_total_bytes ? 0 : max_total_bytes - decoded_bytes;
      const bool budget_binds = max_total_bytes > 0 && (options.max_decompressed_size == 0 ||
                                                        left < options.max_decompressed_size);
      if (budget_binds) bounded.max_decompressed_size = std::max<size_t>(left, 1);
      absl::StatusOr<pprof::Profile> profile = pprof::Decode(raw, budget_binds ? bounded : options);
      if (!profile.ok()) {
        if (budget_binds && absl::IsResourceExhausted(profile.status())) {
          return PayloadTooLargeError(StrCat("push: its profiles decompress to more than ",
                                             max_total_bytes, " bytes together (limit ",
                                             "-distributor.max-push-decompressed-bytes)"));
        }
        return Annotate(profile.status(), StrCat("series ", s, " sample ", i));
      }
      IngestProfile p;
      p.labels = series_labels;
      // The rate limit counts uncompressed bytes, as Pyroscope's does.
      const size_t size = profile->backing.empty() ? raw.size() : profile->backing.front()->size();
      p.received_bytes = static_cast<int64_t>(size);
      decoded_bytes += size;
      p.profile = std::move(*profile);
      // Pyroscope's SDKs send a UUID; other ids cannot be selected by and are not kept.
      if (auto id = model::ParseProfileId(series.samples(i).id()); id.has_value()) {
        p.profile_id = *id;
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace embers::ingest
