// ParseAzureConnectionString: the account, key and blob endpoint of an Azure Storage connection
// string, as the Azure portal shows it and as Pyroscope's -storage.azure.connection-string takes
// it (the way to point Pyroscope, and Embers, at azurite or a sovereign cloud).
//
// Used by OpenBucket (bucket_config.cc) to build AzureBucketOptions. Understands
//   DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net
//   …;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1   (azurite, any explicit endpoint)
//   UseDevelopmentStorage=true                                 (azurite on its default port)
//   BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=…&sig=…   (a SAS token)
// Keys are case-insensitive, values may contain '=' (base64 keys and SAS tokens do). Error
// messages never echo the string (it holds the key or the token).
#ifndef EMBERS_OBJSTORE_AZURE_AZURE_CONNECTION_STRING_H_
#define EMBERS_OBJSTORE_AZURE_AZURE_CONNECTION_STRING_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::objstore::azure {

struct AzureConnectionString {
  std::string account_name;   // may be empty with a SAS token and a BlobEndpoint
  std::string account_key;    // base64; empty with a SAS token
  std::string sas_token;      // "sv=…&sig=…", without '?'; empty with an account key
  std::string blob_endpoint;  // "https://a.blob.core.windows.net", no trailing '/'
};

// InvalidArgument naming the missing or unsupported part.
absl::StatusOr<AzureConnectionString> ParseAzureConnectionString(std::string_view text);

}  // namespace embers::objstore::azure

#endif  // EMBERS_OBJSTORE_AZURE_AZURE_CONNECTION_STRING_H_
