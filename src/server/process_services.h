// What every Embers process tells about itself, in the services Pyroscope's clients call for it:
//  - status.v1.StatusService: build information and the configuration (running, defaults, and
//    the settings that differ from the defaults), also as GET /api/v1/status/buildinfo and
//    /api/v1/status/config{,/diff,/default} as upstream's HTTP mapping serves them;
//  - version.v1.Version: the querier API version (Grafana checks it before newer query calls);
//  - capabilities.v1.FeatureFlagsService: which optional features this server has on.
// Connect routes on the HTTP port and gRPC services on the gRPC port, registered by App. None of
// them needs a tenant: they describe the process, not anyone's data.
#ifndef EMBERS_SERVER_PROCESS_SERVICES_H_
#define EMBERS_SERVER_PROCESS_SERVICES_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

struct ProcessInfo {
  std::string version;     // "0.1.0"
  std::string revision;    // git revision the binary was built from
  std::string branch;      // git branch, when known
  std::string build_date;  // RFC 3339, UTC
  std::string compiler;    // reported where upstream reports its Go version
  // The configuration as YAML (FlagSet::Yaml views, secrets masked).
  std::string config_yaml;
  std::string default_config_yaml;
  std::string diff_config_yaml;
  // Feature flags.
  bool utf8_label_names = false;
};

// The querier API version Embers implements (upstream's currentQuerierVersion).
inline constexpr uint64_t kQuerierApiVersion = 1;

// `info` and `env` must outlive the router and the services.
void RegisterProcessServiceRoutes(const ProcessInfo* info, HttpRouter& router,
                                  const RpcEnvironment* env);
std::vector<std::unique_ptr<grpc::Service>> NewProcessGrpcServices(const ProcessInfo* info,
                                                                   const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_PROCESS_SERVICES_H_
