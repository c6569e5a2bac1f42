// sigv4_sign: signs requests with objstore/s3/sigv4.h for tests/node/sigv4.test.mjs, which holds
// the result against the AWS SigV4 test suite and an independent signer (@smithy/signature-v4).
//
// Reads one JSON object per line on stdin:
//   {"method", "path", "query": [[name, value], …], "headers": [[name, value], …],
//    "body" (hashed) or "payload_hash", "access_key_id", "secret_access_key", "region",
//    "service", "time": "2015-08-30T12:36:00Z"}
// and writes one line per request: {"authorization": …, "canonical_request": …} or {"error": …}.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "base/sha256.h"
#include "objstore/s3/sigv4.h"

int main() {
  using embers::objstore::s3::SigV4Credentials;
  using embers::objstore::s3::SigV4Request;
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json out;
    try {
      const nlohmann::json in = nlohmann::json::parse(line);
      SigV4Request request;
      request.method = in.at("method").get<std::string>();
      request.path = in.at("path").get<std::string>();
      for (const auto& q : in.value("query", nlohmann::json::array())) {
        request.query.emplace_back(q.at(0).get<std::string>(), q.at(1).get<std::string>());
      }
      for (const auto& h : in.at("headers")) {
        request.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
      }
      request.payload_hash = in.contains("payload_hash")
                                 ? in["payload_hash"].get<std::string>()
                                 : embers::Sha256Hex(in.value("body", std::string()));
      const SigV4Credentials credentials{.access_key_id = in.at("access_key_id"),
                                         .secret_access_key = in.at("secret_access_key")};
      absl::Time time;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, in.at("time").get<std::string>(), &time, &error)) {
        throw std::runtime_error("bad time: " + error);
      }
      out["authorization"] = embers::objstore::s3::SigV4Authorization(
          request, credentials, in.at("region").get<std::string>(),
          in.at("service").get<std::string>(), time);
      out["canonical_request"] = embers::objstore::s3::CanonicalRequest(request);
    } catch (const std::exception& e) {
      out = {{"error", e.what()}};
    }
    std::cout << out.dump() << "\n" << std::flush;
  }
  return 0;
}
