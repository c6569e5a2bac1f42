#include "server/rpc_adapters.h"
#include "base/strings.h"

#include <chrono>
#include <optional>

#include <google/protobuf/util/json_util.h>

#include "base/cluster_secret.h"
#include "base/status.h"
#include "server/client_capabilities.h"
#include "server/rpc_protocol.h"
#include "server/status_mapping.h"

namespace embers::server::internal {
namespace {

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
    std::optional<RpcProtocol> protocol = RpcProtocolFor(http.Header("content-type"));
    if (!protocol) {
      absl::Status st = UnsupportedMediaTypeError(StrCat(
          "unsupported content type \"", http.Header("content-type"),
          "\": use application/proto or application/json (Connect), application/connect+proto "
          "or +json (Connect streaming), application/grpc (gRPC over HTTP/2) or "
          "application/grpc-web"));
      if (env->observer) env->observer("connect", path, st, SecondsSince(start));
      return responder.Send(ErrorResponse(st, /*connect_format=*/true));
    }
    auto fail = [&](const absl::Status& st) {
      if (env->observer) env->observer(protocol->TransportName(), path, st, SecondsSince(start));
      responder.Send(RpcErrorResponse(*protocol, st));
    };
    if (protocol->wire == RpcWire::kGrpc && http.http_version < 20) {
      // gRPC needs trailers, which HTTP/1.1 cannot carry (connect-go answers the same way).
      absl::Status st = absl::UnimplementedError(
          "gRPC requires HTTP/2: use h2c (prior knowledge) on this port, or gRPC-Web / Connect");
      if (env->observer) env->observer("grpc", path, st, SecondsSince(start));
      return responder.Send(HttpResponse::Text(505, std::string(st.message())));
    }
    absl::StatusOr<std::string> tenant = env->tenants->Resolve(HttpCredentials(http));
    if (!tenant.ok()) return fail(tenant.status());

    CallContext ctx;
    ctx.tenant = std::move(*tenant);
    ctx.allow_utf8_label_names =
        env->allow_utf8_label_names && AcceptAllowsUtf8LabelNames(http.Header("accept"));
    absl::StatusOr<std::optional<absl::Time>> deadline = RpcDeadline(*protocol, http);
    if (!deadline.ok()) return fail(deadline.status());
    if (*deadline) ctx.deadline = **deadline;

    absl::StatusOr<std::string> body =
        RpcRequestMessage(*protocol, http, env->max_request_message_bytes);
    if (!body.ok()) return fail(body.status());
    std::shared_ptr<google::protobuf::Message> request = new_request();
    if (protocol->codec == RpcCodec::kProto) {
      if (!request->ParseFromString(*body)) {
        return fail(absl::InvalidArgumentError(StrCat(
            "invalid request body: not a valid ", request->GetTypeName(), " protobuf message")));
      }
    } else {
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      auto st = google::protobuf::util::JsonStringToMessage(*body, request.get(), options);
      if (!st.ok()) {
        return fail(absl::InvalidArgumentError(StrCat("invalid JSON request body for ",
                                                      request->GetTypeName(), ": ",
                                                      st.message().ToString())));
      }
    }
    std::shared_ptr<google::protobuf::Message> response = new_response();
    UnaryDone done = [request, response, protocol = *protocol, responder, env, path,
                      start](absl::Status st) mutable {
      if (st.ok()) {
        std::string message;
        if (protocol.codec == RpcCodec::kProto) {
          response->SerializeToString(&message);
        } else {
          auto js = google::protobuf::util::MessageToJsonString(*response, &message);
          if (!js.ok()) st = absl::InternalError(StrCat("encoding response: ", js.ToString()));
        }
        if (st.ok()) {
          if (env->observer) env->observer(protocol.TransportName(), path, st, SecondsSince(start));
          responder.Send(RpcSuccessResponse(protocol, std::move(message)));
          return;
        }
      }
      if (env->observer) env->observer(protocol.TransportName(), path, st, SecondsSince(start));
      responder.Send(RpcErrorResponse(protocol, st));
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
  const auto& metadata = context->client_metadata();
  if (!env->cluster_secret.empty()) {
    auto it = metadata.find(std::string(kClusterSecretMetadataKey));
    if (it == metadata.end() ||
        !ClusterSecretMatches(env->cluster_secret,
                              std::string_view(it->second.data(), it->second.size()))) {
      finish(absl::UnauthenticatedError(
          it == metadata.end()
              ? "internal call without the cluster secret (-server.cluster-secret)"
              : "internal call with a wrong cluster secret (-server.cluster-secret)"));
      return reactor;
    }
  }
  auto header = [&metadata](const char* key) {
    auto it = metadata.find(key);
    return it == metadata.end() ? std::string_view()
                                : std::string_view(it->second.data(), it->second.size());
  };
  const RequestCredentials credentials{.org_id = header("x-scope-orgid"),
                                       .authorization = header("authorization"),
                                       .path = full_method};
  bool utf8_label_names = false;
  if (env->allow_utf8_label_names) {
    auto [from, to] = metadata.equal_range("accept");
    for (auto it = from; it != to && !utf8_label_names; ++it) {
      utf8_label_names =
          AcceptAllowsUtf8LabelNames(std::string_view(it->second.data(), it->second.size()));
    }
  }
  absl::StatusOr<std::string> tenant = env->tenants->Resolve(credentials);
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
