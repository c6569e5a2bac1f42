// Serving one service method over both public transports.
//
// A service method is written once in the shape of base/call_context.h and served
//  - on the HTTP port by RegisterConnectUnary, in every protocol rpc_protocol.h names (Connect
//    unary and streaming, gRPC over h2c, gRPC-Web), and
//  - over gRPC on the gRPC port by ServeGrpcUnary, called from the generated CallbackService
//    override.
// Both resolve the tenant, honour the caller's deadline, count the call in /metrics and map errors
// through status_mapping, so a method behaves the same whichever way it is called.
#ifndef EMBERS_SERVER_RPC_ADAPTERS_H_
#define EMBERS_SERVER_RPC_ADAPTERS_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "base/call_context.h"
#include "server/http_router.h"
#include "server/tenant.h"

namespace embers::server {

template <class Req, class Resp>
using UnaryMethod = std::function<void(const CallContext&, const Req&, Resp*, UnaryDone)>;

// What both adapters need from the process: tenancy and a per-call observer for metrics.
struct RpcEnvironment {
  const TenantResolver* tenants = nullptr;
  // (transport "grpc", "grpc-web" or "connect", full method "/pkg.Service/Method", status, seconds)
  std::function<void(std::string_view, std::string_view, const absl::Status&, double)> observer;
  // -client-capability.allow-utf8-labelnames: whether a client's allow-utf8-labelnames Accept
  // parameter is honoured (client_capabilities.h).
  bool allow_utf8_label_names = false;
  // The most a compressed gRPC / Connect-streaming request message may inflate to (the HTTP body
  // limit, -server.http-max-request-body-bytes).
  size_t max_request_message_bytes = 256u << 20;
  // For the internal gRPC listener: when non-empty, every call must carry it
  // (base/cluster_secret.h) or is refused as Unauthenticated before its message is looked at.
  std::string cluster_secret;
};

namespace internal {

using ErasedMethod = std::function<void(const CallContext&, const google::protobuf::Message&,
                                        google::protobuf::Message*, UnaryDone)>;
using MessageFactory = std::function<std::unique_ptr<google::protobuf::Message>()>;

void RegisterConnectUnaryErased(HttpRouter& router, std::string path, MessageFactory new_request,
                                MessageFactory new_response, ErasedMethod method,
                                const RpcEnvironment* env, bool cpu_bound);

grpc::ServerUnaryReactor* ServeGrpcUnaryErased(grpc::CallbackServerContext* context,
                                               const google::protobuf::Message* request,
                                               google::protobuf::Message* response,
                                               const ErasedMethod& method,
                                               std::string_view full_method,
                                               const RpcEnvironment* env);

template <class Req, class Resp>
ErasedMethod Erase(UnaryMethod<Req, Resp> method) {
  return [method = std::move(method)](const CallContext& ctx, const google::protobuf::Message& req,
                                      google::protobuf::Message* resp, UnaryDone done) {
    method(ctx, static_cast<const Req&>(req), static_cast<Resp*>(resp), std::move(done));
  };
}

}  // namespace internal

// Registers POST `path` (e.g. "/querier.v1.QuerierService/ProfileTypes") on the router. Of
// `options` only cpu_bound applies (the route is always a Connect route).
template <class Req, class Resp>
void RegisterConnectUnary(HttpRouter& router, std::string path, UnaryMethod<Req, Resp> method,
                          const RpcEnvironment* env, RouteOptions options = {}) {
  internal::RegisterConnectUnaryErased(
      router, std::move(path), [] { return std::make_unique<Req>(); },
      [] { return std::make_unique<Resp>(); }, internal::Erase(std::move(method)), env,
      options.cpu_bound);
}

// A gRPC method adapter, holding the erased method so that each call does not re-wrap it.
template <class Req, class Resp>
class GrpcUnary {
 public:
  GrpcUnary(std::string full_method, UnaryMethod<Req, Resp> method, const RpcEnvironment* env)
      : full_method_(std::move(full_method)),
        method_(internal::Erase(std::move(method))),
        env_(env) {}

  grpc::ServerUnaryReactor* operator()(grpc::CallbackServerContext* context, const Req* request,
                                       Resp* response) const {
    return internal::ServeGrpcUnaryErased(context, request, response, method_, full_method_, env_);
  }

 private:
  std::string full_method_;
  internal::ErasedMethod method_;
  const RpcEnvironment* env_;
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_RPC_ADAPTERS_H_
