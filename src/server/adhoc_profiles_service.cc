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
#include "ingest/adapters/adhoc_file.h"
#include "nlohmann/json.hpp"
#include "query/flame_graph.h"
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

// Decodes a base64 profile file named `file_name` (its extension may say its format).
absl::StatusOr<pprof::Profile> DecodeFile(const AdHocProfilesDeps& deps, std::string_view file_name,
                                          std::string_view base64) {
  std::string bytes;
  if (!absl::Base64Unescape(absl::string_view(base64.data(), base64.size()), &bytes)) {
    return absl::InvalidArgumentError("profile: not valid base64");
  }
  absl::StatusOr<pprof::Profile> profile =
      ingest::DecodeAdHocFile(file_name, bytes, deps.max_profile_bytes);
  if (!profile.ok()) return Annotate(profile.status(), "profile");
  return profile;
}

// Decodes the base64 profile file and renders the response for it.
absl::Status Render(const AdHocProfilesDeps& deps, std::string_view file_name,
                    std::string_view base64, int64_t max_nodes_asked, std::string_view sample_type,
                    av1::AdHocProfilesGetResponse* out) {
  absl::StatusOr<int64_t> max_nodes = deps.frontend->ValidateMaxNodes(max_nodes_asked);
  if (!max_nodes.ok()) return max_nodes.status();
  EMBERS_ASSIGN_OR_RETURN(const pprof::Profile profile, DecodeFile(deps, file_name, base64));
  absl::StatusOr<query::PprofFlameGraph> fg =
      query::BuildPprofFlameGraph(profile, out->name(), sample_type, *max_nodes);
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

// An upload as stored: its name, base64 file and upload time.
struct StoredProfile {
  std::string name;
  std::string data;
  int64_t uploaded_at_ms = 0;
};

absl::StatusOr<StoredProfile> LoadStored(const AdHocProfilesDeps& deps, std::string_view tenant,
                                         std::string_view id) {
  EMBERS_ASSIGN_OR_RETURN(const int64_t uploaded, UploadedAtOf(id));
  EMBERS_ASSIGN_OR_RETURN(objstore::Bucket* const bucket, BucketOf(deps));
  absl::StatusOr<std::string> object = bucket->Get(StrCat(Prefix(tenant), id));
  if (absl::IsNotFound(object.status())) {
    return absl::NotFoundError(StrCat("profile ", id, " not found"));
  }
  if (!object.ok()) return object.status();
  nlohmann::json doc = nlohmann::json::parse(*object, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("data") || !doc["data"].is_string()) {
    return absl::DataLossError(StrCat("ad hoc profile ", id, " is corrupt"));
  }
  StoredProfile out;
  out.name = doc.contains("name") && doc["name"].is_string() ? doc["name"].get<std::string>()
                                                             : std::string(id.substr(27));
  out.data = std::move(doc["data"].get_ref<std::string&>());
  out.uploaded_at_ms = uploaded;
  return out;
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
    if (absl::Status st = Render(deps, req.name(), req.profile(), req.max_nodes(), "", out);
        !st.ok()) {
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
    absl::StatusOr<StoredProfile> stored = LoadStored(deps, ctx.tenant, req.id());
    if (!stored.ok()) return done(stored.status());
    out->set_id(req.id());
    out->set_name(stored->name);
    out->set_uploaded_at(stored->uploaded_at_ms);
    done(Render(deps, stored->name, stored->data, req.max_nodes(), req.profile_type(), out));
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

// Diff: the two uploads' trees of one sample type, as a "double" flamebearer document. The type
// is the one asked for, else each file's first; both must be of the same (400 naming the common
// types otherwise), as upstream.
UnaryMethod<av1::AdHocProfilesDiffRequest, av1::AdHocProfilesDiffResponse> DiffMethod(
    AdHocProfilesDeps deps) {
  return [deps](const CallContext& ctx, const av1::AdHocProfilesDiffRequest& req,
                av1::AdHocProfilesDiffResponse* out, UnaryDone done) {
    absl::StatusOr<int64_t> max_nodes = deps.frontend->ValidateMaxNodes(req.max_nodes());
    if (!max_nodes.ok()) return done(max_nodes.status());
    query::PprofFunctionTree sides[2];
    const std::string* ids[2] = {&req.left_id(), &req.right_id()};
    for (int i = 0; i < 2; ++i) {
      const char* side = i == 0 ? "left" : "right";
      absl::StatusOr<StoredProfile> stored = LoadStored(deps, ctx.tenant, *ids[i]);
      if (!stored.ok()) return done(Annotate(stored.status(), StrCat(side, " profile")));
      absl::StatusOr<pprof::Profile> profile = DecodeFile(deps, stored->name, stored->data);
      if (!profile.ok()) return done(Annotate(profile.status(), StrCat(side, " profile")));
      absl::StatusOr<query::PprofFunctionTree> tree =
          query::BuildPprofFunctionTree(*profile, stored->name, req.profile_type());
      if (!tree.ok()) return done(Annotate(tree.status(), StrCat(side, " profile")));
      sides[i] = std::move(*tree);
    }
    std::vector<std::string> common;
    for (const std::string& t : sides[0].sample_types) {
      const auto& right = sides[1].sample_types;
      if (std::find(right.begin(), right.end(), t) != right.end() &&
          std::find(common.begin(), common.end(), t) == common.end()) {
        common.push_back(t);
      }
    }
    if (common.empty()) {
      return done(absl::InvalidArgumentError(
          StrCat("no common profile types between left (", Join(sides[0].sample_types, ", "),
                 ") and right (", Join(sides[1].sample_types, ", "), ")")));
    }
    if (sides[0].type.sample_type != sides[1].type.sample_type) {
      return done(absl::InvalidArgumentError(
          StrCat("profile type mismatch: left profile uses '", sides[0].type.sample_type,
                 "', right profile uses '", sides[1].type.sample_type,
                 "'; please specify a profile type from the common types: ", Join(common, ", "))));
    }
    for (const std::string& t : common) out->add_profile_types(t);
    const querier::v1::FlameGraphDiff diff =
        query::BuildFlameGraphDiff(sides[0].tree, sides[1].tree, *max_nodes);
    out->set_flamebearer_profile(DumpJson(DiffFlamebearerDocument(diff, sides[0].type)));
    done(absl::OkStatus());
  };
}

class AdHocProfilesGrpcService final : public av1::AdHocProfileService::CallbackService {
 public:
  AdHocProfilesGrpcService(AdHocProfilesDeps deps, const RpcEnvironment* env)
      : upload_(StrCat(kService, "Upload"), UploadMethod(deps), env),
        get_(StrCat(kService, "Get"), GetMethod(deps), env),
        list_(StrCat(kService, "List"), ListMethod(deps), env),
        diff_(StrCat(kService, "Diff"), DiffMethod(deps), env) {}
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
  grpc::ServerUnaryReactor* Diff(grpc::CallbackServerContext* c,
                                 const av1::AdHocProfilesDiffRequest* req,
                                 av1::AdHocProfilesDiffResponse* resp) override {
    return diff_(c, req, resp);
  }

 private:
  GrpcUnary<av1::AdHocProfilesUploadRequest, av1::AdHocProfilesGetResponse> upload_;
  GrpcUnary<av1::AdHocProfilesGetRequest, av1::AdHocProfilesGetResponse> get_;
  GrpcUnary<av1::AdHocProfilesListRequest, av1::AdHocProfilesListResponse> list_;
  GrpcUnary<av1::AdHocProfilesDiffRequest, av1::AdHocProfilesDiffResponse> diff_;
};

}  // namespace

void RegisterAdHocProfilesConnectRoutes(AdHocProfilesDeps deps, HttpRouter& router,
                                        const RpcEnvironment* env) {
  // Decoding profiles and reading the bucket: off the I/O threads.
  const RouteOptions cpu_bound{.cpu_bound = true};
  RegisterConnectUnary(router, StrCat(kService, "Upload"), UploadMethod(deps), env, cpu_bound);
  RegisterConnectUnary(router, StrCat(kService, "Get"), GetMethod(deps), env, cpu_bound);
  RegisterConnectUnary(router, StrCat(kService, "List"), ListMethod(deps), env, cpu_bound);
  RegisterConnectUnary(router, StrCat(kService, "Diff"), DiffMethod(deps), env, cpu_bound);
}

std::unique_ptr<grpc::Service> NewAdHocProfilesGrpcService(AdHocProfilesDeps deps,
                                                           const RpcEnvironment* env) {
  return std::make_unique<AdHocProfilesGrpcService>(deps, env);
}

}  // namespace embers::server
