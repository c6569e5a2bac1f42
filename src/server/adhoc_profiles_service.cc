#include "server/adhoc_profiles_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adhocprofiles/v1/adhocprofiles.grpc.pb.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "nlohmann/json.hpp"
#include "pprof/decoder.h"
#include "query/pprof_flame_graph.h"
#include "server/flamebearer_json.h"

namespace embers::server {
namespace {

namespace av1 = ::adhocprofiles::v1;

constexpr char kService[] = "/adhocprofiles.v1.AdHocProfileService/";
constexpr size_t kMaxNameBytes = 128;

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Upstream's rule: every character outside [a-zA-Z0-9._-] becomes '_' (one per UTF-8 character).
std::string SanitizedName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size() && out.size() < kMaxNameBytes; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte of a character already replaced
    out.push_back(IdChar(static_cast<char>(c)) ? static_cast<char>(c) : '_');
  }
  return out.empty() ? "profile" : out;
}

std::string Prefix(std::string_view tenant) { return StrCat("adhoc/", tenant, "/"); }

// "<ULID>-<name>" → upload time in ms; NotFound-worthy ids fail here.
absl::StatusOr<int64_t> UploadedAtOf(std::string_view id) {
  if (id.empty() || id.size() > 26 + 1 + kMaxNameBytes ||
      !std::all_of(id.begin(), id.end(), IdChar)) {
    return absl::InvalidArgumentError(
        StrCat("id '", id, "' is invalid: it can only contain [a-zA-Z0-9_-.]"));
  }
  absl::StatusOr<Ulid> ulid = ParseUlid(id.substr(0, std::min<size_t>(id.find('-'), id.size())));
  if (!ulid.ok() || id.size() < 28 || id[26] != '-') {
    return absl::InvalidArgumentError(StrCat("id '", id, "' is not an ad hoc profile id"));
  }
  return static_cast<int64_t>(ulid->TimeMs());
}

absl::StatusOr<objstore::Bucket*> BucketOf(const AdHocProfilesDeps& deps) {
  objstore::Bucket* b = deps.bucket->get();
  if (b == nullptr) return absl::UnavailableError("the bucket is not open yet");
  return b;
}

// Decodes the base64 pprof and renders the response for it.
absl::Status Render(const AdHocProfilesDeps& deps, std::string_view base64, int64_t max_nodes_asked,
                    std::string_view sample_type, av1::AdHocProfilesGetResponse* out) {
  absl::StatusOr<int64_t> max_nodes = deps.frontend->ValidateMaxNodes(max_nodes_asked);
  if (!max_nodes.ok()) return max_nodes.status();
  std::string bytes;
  if (!absl::Base64Unescape(absl::string_view(base64.data(), base64.size()), &bytes)) {
    return absl::InvalidArgumentError("profile: not valid base64");
  }
  absl::StatusOr<pprof::Profile> profile =
      pprof::Decode(bytes, {.max_decompressed_size = deps.max_profile_bytes});
  if (!profile.ok()) {
    return absl::Status(profile.status().code(),
                        StrCat("profile: only pprof is supported: ", profile.status().message()));
  }
  absl::StatusOr<query::PprofFlameGraph> fg =
      query::BuildPprofFlameGraph(*profile, out->name(), sample_type, *max_nodes);
  if (!fg.ok()) return fg.status();
  out->set_profile_type(fg->type.sample_type);
  for (const std::string& t : fg->sample_types) out->add_profile_types(t);
  nlohmann::ordered_json doc = FlamebearerJson(fg->flame_graph, "single", fg->type);
  doc["timeline"] = nullptr;
  doc["groups"] = nullptr;
  doc["heatmap"] = nullptr;
  out->set_flamebearer_profile(DumpJson(doc));
  return absl::OkStatus();
}

UnaryMethod<av1::AdHocProfilesUploadRequest, av1::AdHocProfilesGetResponse> UploadMethod(
    AdHocProfilesDeps deps) {
  return [deps](const CallContext& ctx, const av1::AdHocProfilesUploadRequest& req,
                av1::AdHocProfilesGetResponse* out, UnaryDone done) {
    if (req.profile().empty()) return done(absl::InvalidArgumentError("profile is empty"));
    // Base64 takes 4 bytes for 3; anything longer cannot decode under the limit.
    if (req.profile().size() / 4 * 3 > deps.max_profile_bytes) {
      return done(PayloadTooLargeError(
          StrCat("profile payload size exceeds limit of ", deps.max_profile_bytes, " bytes")));
    }
    absl::StatusOr<objstore::Bucket*> bucket = BucketOf(deps);
    if (!bucket.ok()) return done(bucket.status());
    const absl::Time now = absl::Now();
    out->set_name(SanitizedName(req.name()));
    out->set_uploaded_at(absl::ToUnixMillis(now));
    if (absl::Status st = Render(deps, req.profile(), req.max_nodes(), "", out); !st.ok()) {
      return done(st);
    }
    size_t stored = 0;
    absl::Status listed = (*bucket)->List(Prefix(ctx.tenant), [&stored](std::string_view) {
      ++stored;
      return absl::OkStatus();
    });
    if (!listed.ok()) return done(listed);
    if (stored >= deps.max_profiles_per_tenant) {
      return done(absl::ResourceExhaustedError(
          StrCat("tenant has ", stored, " ad hoc profiles; limit ", deps.max_profiles_per_tenant)));
    }
    out->set_id(StrCat(NewUlid(static_cast<uint64_t>(absl::ToUnixMillis(now))).ToString(), "-",
                       out->name()));
    nlohmann::ordered_json doc = {
        {"name", out->name()},
        {"data", req.profile()},
        {"uploadedAt", absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone())},
    };
    done((*bucket)->Put(StrCat(Prefix(ctx.tenant), out->id()), DumpJson(doc)));
  };
}

UnaryMethod<av1::AdHocProfilesGetRequest, av1::AdHocProfilesGetResponse> GetMethod(
    AdHocProfilesDeps deps) {
  return [deps](const CallContext& ctx, const av1::AdHocProfilesGetRequest& req,
                av1::AdHocProfilesGetResponse* out, UnaryDone done) {
    absl::StatusOr<int64_t> uploaded = UploadedAtOf(req.id());
    if (!uploaded.ok()) return done(uploaded.status());
    absl::StatusOr<objstore::Bucket*> bucket = BucketOf(deps);
    if (!bucket.ok()) return done(bucket.status());
    absl::StatusOr<std::string> object = (*bucket)->Get(StrCat(Prefix(ctx.tenant), req.id()));
    if (absl::IsNotFound(object.status())) {
      return done(absl::NotFoundError(StrCat("profile ", req.id(), " not found")));
    }
    if (!object.ok()) return done(object.status());
    nlohmann::json doc = nlohmann::json::parse(*object, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("data") ||
        !doc["data"].is_string()) {
      return done(absl::DataLossError(StrCat("ad hoc profile ", req.id(), " is corrupt")));
    }
    out->set_id(req.id());
    out->set_name(doc.contains("name") && doc["name"].is_string() ? doc["name"].get<std::string>()
                                                                  : req.id().substr(27));
    out->set_uploaded_at(*uploaded);
    done(Render(deps, doc["data"].get_ref<const std::string&>(), req.max_nodes(),
                req.profile_type(), out));
  };
}

UnaryMethod<av1::AdHocProfilesListRequest, av1::AdHocProfilesListResponse> ListMethod(
    AdHocProfilesDeps deps) {
  return [deps](const CallContext& ctx, const av1::AdHocProfilesListRequest&,
                av1::AdHocProfilesListResponse* out, UnaryDone done) {
    absl::StatusOr<objstore::Bucket*> bucket = BucketOf(deps);
    if (!bucket.ok()) return done(bucket.status());
    const std::string prefix = Prefix(ctx.tenant);
    std::vector<av1::AdHocProfilesProfileMetadata> found;
    absl::Status listed = (*bucket)->List(prefix, [&](std::string_view key) {
      std::string_view id = key.substr(prefix.size());
      absl::StatusOr<int64_t> uploaded = UploadedAtOf(id);
      if (!uploaded.ok()) return absl::OkStatus();  // not ours (a temporary file, ...)
      av1::AdHocProfilesProfileMetadata& m = found.emplace_back();
      m.set_id(std::string(id));
      m.set_name(std::string(id.substr(27)));
      m.set_uploaded_at(*uploaded);
      return absl::OkStatus();
    });
    if (!listed.ok()) return done(listed);
    // Newest first; ids break ties so the order is stable.
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.uploaded_at() != b.uploaded_at() ? a.uploaded_at() > b.uploaded_at()
                                                : a.id() > b.id();
    });
    for (auto& m : found) *out->add_profiles() = std::move(m);
    done(absl::OkStatus());
  };
}

class AdHocProfilesGrpcService final : public av1::AdHocProfileService::CallbackService {
 public:
  AdHocProfilesGrpcService(AdHocProfilesDeps deps, const RpcEnvironment* env)
      : upload_(StrCat(kService, "Upload"), UploadMethod(deps), env),
        get_(StrCat(kService, "Get"), GetMethod(deps), env),
        list_(StrCat(kService, "List"), ListMethod(deps), env) {}
  grpc::ServerUnaryReactor* Upload(grpc::CallbackServerContext* c,
                                   const av1::AdHocProfilesUploadRequest* req,
                                   av1::AdHocProfilesGetResponse* resp) override {
    return upload_(c, req, resp);
  }
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* c,
                                const av1::AdHocProfilesGetRequest* req,
                                av1::AdHocProfilesGetResponse* resp) override {
    return get_(c, req, resp);
  }
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* c,
                                 const av1::AdHocProfilesListRequest* req,
                                 av1::AdHocProfilesListResponse* resp) override {
    return list_(c, req, resp);
  }

 private:
  GrpcUnary<av1::AdHocProfilesUploadRequest, av1::AdHocProfilesGetResponse> upload_;
  GrpcUnary<av1::AdHocProfilesGetRequest, av1::AdHocProfilesGetResponse> get_;
  GrpcUnary<av1::AdHocProfilesListRequest, av1::AdHocProfilesListResponse> list_;
};

}  // namespace

void RegisterAdHocProfilesConnectRoutes(AdHocProfilesDeps deps, HttpRouter& router,
                                        const RpcEnvironment* env) {
  // Decoding profiles and reading the bucket: off the I/O threads.
  const RouteOptions cpu_bound{.cpu_bound = true};
  RegisterConnectUnary(router, StrCat(kService, "Upload"), UploadMethod(deps), env, cpu_bound);
  RegisterConnectUnary(router, StrCat(kService, "Get"), GetMethod(deps), env, cpu_bound);
  RegisterConnectUnary(router, StrCat(kService, "List"), ListMethod(deps), env, cpu_bound);
}

std::unique_ptr<grpc::Service> NewAdHocProfilesGrpcService(AdHocProfilesDeps deps,
                                                           const RpcEnvironment* env) {
  return std::make_unique<AdHocProfilesGrpcService>(deps, env);
}

}  // namespace embers::server
