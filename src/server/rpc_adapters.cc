#include "server/rpc_adapters.h"
#include "base/strings.h"

#include <chrono>

#include <google/protobuf/util/json_util.h>

#include "base/status.h"
#include "server/client_capabilities.h"
#include "server/status_mapping.h"

namespace embers::server::internal {
namespace {

enum class Codec { kProto, kJson, kUnsupported };

Codec CodecFor(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = StripWhitespace(media);
  if (EqualsIgnoreCase(media, "application/proto") ||
      EqualsIgnoreCase(media, "application/protobuf") ||
      EqualsIgnoreCase(media, "application/x-protobuf")) {
    return Codec::kProto;
  }
  if (EqualsIgnoreCase(media, "application/json")) return Codec::kJson;
  return Codec::kUnsupported;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void RegisterConnectUnaryErased(HttpRouter& router, std::string path, MessageFactory new_request,
                                MessageFactory new_response, ErasedMethod method,
                                const RpcEnvironment* env, bool cpu_bound) {
  auto handler = [path, new_request = std::move(new_request),
                  new_response = std::move(new_response), method = std::move(method),
                  env](HttpRequest& http, HttpResponder responder) {
    const auto start = std::chrono::steady_clock::now();
    auto fail = [&](const absl::Status& st) {
      if (env->observer) env->observer("connect", path, st, SecondsSince(start));
      responder.Send(ErrorResponse(st, /*connect_format=*/true));
    };
    const Codec codec = CodecFor(http.Header("content-type"));
    if (codec == Codec::kUnsupported) {
      return fail(UnsupportedMediaTypeError(
          StrCat("unsupported content type \"", http.Header("content-type"),
                 "\": use application/proto or application/json")));
    }
    absl::StatusOr<std::string> tenant = env->tenants->Resolve(http.Header("x-scope-orgid"));
    if (!tenant.ok()) return fail(tenant.status());

    CallContext ctx;
    ctx.tenant = std::move(*tenant);
    ctx.allow_utf8_label_names =
        env->allow_utf8_label_names && AcceptAllowsUtf8LabelNames(http.Header("accept"));
    if (std::string_view t = http.Header("connect-timeout-ms"); !t.empty()) {
      int64_t ms = 0;
      if (!ParseInt64(t, &ms) || ms < 0) {
        return fail(
            absl::InvalidArgumentError(StrCat("invalid Connect-Timeout-Ms header \"", t, "\"")));
      }
      ctx.deadline = absl::Now() + absl::Milliseconds(ms);
    }

    std::shared_ptr<google::protobuf::Message> request = new_request();
    if (codec == Codec::kProto) {
      if (!request->ParseFromString(http.body)) {
        return fail(absl::InvalidArgumentError(StrCat(
            "invalid request body: not a valid ", request->GetTypeName(), " protobuf message")));
      }
    } else {
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      auto st = google::protobuf::util::JsonStringToMessage(http.body, request.get(), options);
      if (!st.ok()) {
        return fail(absl::InvalidArgumentError(StrCat("invalid JSON request body for ",
                                                      request->GetTypeName(), ": ",
                                                      st.message().ToString())));
      }
    }
    std::shared_ptr<google::protobuf::Message> response = new_response();
    UnaryDone done = [request, response, codec, responder, env, path,
                      start](absl::Status st) mutable {
      if (env->observer) env->observer("connect", path, st, SecondsSince(start));
      if (!st.ok()) {
        responder.Send(ErrorResponse(st, /*connect_format=*/true));
        return;
      }
      HttpResponse out;
      if (codec == Codec::kProto) {
        out.content_type = "application/proto";
        response->SerializeToString(&out.body);
      } else {
        out.content_type = "application/json";
        auto js = google::protobuf::util::MessageToJsonString(*response, &out.body);
        if (!js.ok()) {
          responder.Send(ErrorResponse(
              absl::InternalError(StrCat("encoding response: ", js.ToString())), true));
          return;
        }
      }
      responder.Send(std::move(out));
    };
    method(ctx, *request, response.get(), std::move(done));
  };
  router.Handle("POST", path, std::move(handler), {.connect = true, .cpu_bound = cpu_bound});
}

grpc::ServerUnaryReactor* ServeGrpcUnaryErased(grpc::CallbackServerContext* context,
                                               const google::protobuf::Message* request,
                                               google::protobuf::Message* response,
                                               const ErasedMethod& method,
                                               std::string_view full_method,
                                               const RpcEnvironment* env) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string method_name(full_method);
  auto finish = [reactor, env, method_name, start](const absl::Status& st) {
    if (env->observer) env->observer("grpc", method_name, st, SecondsSince(start));
    reactor->Finish(ToGrpcStatus(st));
  };
  std::string_view org;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("x-scope-orgid"); it != metadata.end()) {
    org = std::string_view(it->second.data(), it->second.size());
  }
  bool utf8_label_names = false;
  if (env->allow_utf8_label_names) {
    auto [from, to] = metadata.equal_range("accept");
    for (auto it = from; it != to && !utf8_label_names; ++it) {
      utf8_label_names =
          AcceptAllowsUtf8LabelNames(std::string_view(it->second.data(), it->second.size()));
    }
  }
  absl::StatusOr<std::string> tenant = env->tenants->Resolve(org);
  if (!tenant.ok()) {
    finish(tenant.status());
    return reactor;
  }
  CallContext ctx;
  ctx.tenant = std::move(*tenant);
  ctx.allow_utf8_label_names = utf8_label_names;
  auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    ctx.deadline = absl::FromChrono(deadline);
  }
  method(ctx, *request, response, std::move(finish));
  return reactor;
}

}  // namespace embers::server::internal
