// libFuzzer entry point for what the Azure bucket reads from the network (azure_responses.h, on
// the shared XML reader) and for connection strings (azure_connection_string.h), which come from
// flags and the environment.
//
// Properties: no crash, hang or leak on any input; a parsed listing has no empty blob name; a
// connection string that parses has a key or a SAS token, and an endpoint without a trailing '/'.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "objstore/azure/azure_connection_string.h"
#include "objstore/azure/azure_responses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)embers::objstore::azure::ParseAzureError(input);
  (void)embers::objstore::azure::ParseBlobBatchResponse("multipart/mixed; boundary=b", input);
  auto page = embers::objstore::azure::ParseListBlobs(input);
  if (page.ok()) {
    for (const auto& name : page->names) {
      if (name.empty()) std::abort();  // a <Blob> without a name must be an error
    }
  }
  auto connection = embers::objstore::azure::ParseAzureConnectionString(input);
  if (connection.ok()) {
    if (connection->account_key.empty() == connection->sas_token.empty()) std::abort();
    const std::string_view endpoint = connection->blob_endpoint;
    if (endpoint.empty() || endpoint.back() == '/') std::abort();
  }
  (void)embers::objstore::azure::BlockListBody({std::string(input)});
  return 0;
}
