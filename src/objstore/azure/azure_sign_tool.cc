// azure_sign: signs requests with objstore/azure/shared_key.h for tests/node/azure_sign.test.mjs,
// which holds the result against the Azure SDK's signer (StorageSharedKeyCredential of
// @azure/storage-blob).
//
// Reads one JSON object per line on stdin:
//   {"method", "encoded_path", "query": [[name, value], …] (raw), "headers": [[name, value], …],
//    "account_name", "account_key" (base64)}
// and writes one line per request: {"authorization": …, "string_to_sign": …} or {"error": …}.
#include <iostream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "objstore/azure/shared_key.h"

int main() {
  using embers::objstore::azure::SharedKeyRequest;
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json out;
    try {
      const nlohmann::json in = nlohmann::json::parse(line);
      SharedKeyRequest request;
      request.method = in.at("method").get<std::string>();
      request.encoded_path = in.at("encoded_path").get<std::string>();
      for (const auto& q : in.value("query", nlohmann::json::array())) {
        request.query.emplace_back(q.at(0).get<std::string>(), q.at(1).get<std::string>());
      }
      for (const auto& h : in.at("headers")) {
        request.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
      }
      const std::string account = in.at("account_name").get<std::string>();
      auto key = embers::objstore::azure::DecodeAccountKey(in.at("account_key").get<std::string>());
      if (!key.ok()) throw std::runtime_error(std::string(key.status().message()));
      out["authorization"] =
          embers::objstore::azure::SharedKeyAuthorization(request, account, *key);
      out["string_to_sign"] = embers::objstore::azure::SharedKeyStringToSign(request, account);
    } catch (const std::exception& e) {
      out = {{"error", e.what()}};
    }
    std::cout << out.dump() << "\n" << std::flush;
  }
  return 0;
}
