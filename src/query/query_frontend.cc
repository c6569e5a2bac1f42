#include "query/query_frontend.h"

#include <memory>

#include "base/strings.h"
#include "model/labels.h"
#include "model/profile_type.h"

namespace embers::query {

void QueryFrontend::ProfileTypes(const CallContext& ctx,
                                 const querier::v1::ProfileTypesRequest& request,
                                 querier::v1::ProfileTypesResponse* response, UnaryDone done) {
  int64_t start = request.start(), end = request.end();
  if (start == 0 && end == 0) {
    end = absl::ToUnixMillis(absl::Now());
    start = end - absl::ToInt64Milliseconds(options_.default_lookback);
  } else if (end == 0) {
    end = absl::ToUnixMillis(absl::Now());
  }
  if (end < start) {
    done(absl::InvalidArgumentError(StrCat("end (", end, ") is before start (", start, ")")));
    return;
  }
  // The index knows every dataset's profile types: no object needs to be read.
  auto req = std::make_shared<metastore::v1::QueryMetadataLabelsRequest>();
  req->add_tenant_id(ctx.tenant);
  req->set_start_time(start);
  req->set_end_time(end);
  req->set_query("{}");
  req->add_labels(std::string(model::kLabelProfileType));
  auto resp = std::make_shared<metastore::v1::QueryMetadataLabelsResponse>();
  metastore_->QueryMetadataLabels(
      ctx, *req, resp.get(), [req, resp, response, done = std::move(done)](absl::Status st) {
        if (!st.ok()) return done(st);
        for (const auto& set : resp->labels()) {
          for (const auto& label : set.labels()) {
            if (label.name() != model::kLabelProfileType) continue;
            absl::StatusOr<model::ProfileType> type = model::ParseProfileType(label.value());
            if (!type.ok()) continue;  // not a profile type we can describe; skip, as upstream
            types::v1::ProfileType* out = response->add_profile_types();
            out->set_id(label.value());
            out->set_name(type->name);
            out->set_sample_type(type->sample_type);
            out->set_sample_unit(type->sample_unit);
            out->set_period_type(type->period_type);
            out->set_period_unit(type->period_unit);
          }
        }
        done(absl::OkStatus());
      });
}

}  // namespace embers::query
