#include "ingest/push_adapter.h"

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {

absl::StatusOr<std::vector<IngestProfile>> ConvertPushRequest(const push::v1::PushRequest& request,
                                                              const pprof::DecodeOptions& options) {
  std::vector<IngestProfile> out;
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
      absl::StatusOr<pprof::Profile> profile = pprof::Decode(raw, options);
      if (!profile.ok()) {
        return Annotate(profile.status(), StrCat("series ", s, " sample ", i));
      }
      IngestProfile p;
      p.labels = series_labels;
      // The rate limit counts uncompressed bytes, as Pyroscope's does.
      p.received_bytes = static_cast<int64_t>(
          profile->backing.empty() ? raw.size() : profile->backing.front()->size());
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
