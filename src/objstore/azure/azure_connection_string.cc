#include "objstore/azure/azure_connection_string.h"

#include "base/strings.h"

namespace embers::objstore::azure {
namespace {

// azurite's defaults, as the SDKs expand UseDevelopmentStorage=true.
constexpr std::string_view kDevAccount = "devstoreaccount1";
constexpr std::string_view kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr std::string_view kDevEndpoint = "http://127.0.0.1:10000/devstoreaccount1";

}  // namespace

absl::StatusOr<AzureConnectionString> ParseAzureConnectionString(std::string_view text) {
  std::string protocol = "https", suffix = "core.windows.net";
  AzureConnectionString out;
  bool development = false;
  for (std::string_view part : Split(text, ';', true)) {
    part = StripWhitespace(part);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(
          "the Azure connection string is not a list of name=value pairs separated by ';'");
    }
    const std::string name = AsciiLower(StripWhitespace(part.substr(0, eq)));
    const std::string value(StripWhitespace(part.substr(eq + 1)));
    if (name == "defaultendpointsprotocol") {
      protocol = AsciiLower(value);
      if (protocol != "http" && protocol != "https") {
        return absl::InvalidArgumentError(
            "the Azure connection string's DefaultEndpointsProtocol must be http or https");
      }
    } else if (name == "accountname") {
      out.account_name = value;
    } else if (name == "accountkey") {
      out.account_key = value;
    } else if (name == "endpointsuffix") {
      suffix = value;
    } else if (name == "blobendpoint") {
      out.blob_endpoint = value;
    } else if (name == "usedevelopmentstorage") {
      development = EqualsIgnoreCase(value, "true");
    } else if (name == "sharedaccesssignature") {
      out.sas_token = value.substr(value.starts_with('?') ? 1 : 0);
    }
    // Other services' endpoints (QueueEndpoint, …) and unknown names are not ours to judge.
  }
  if (development) {
    if (out.account_name.empty()) out.account_name = kDevAccount;
    if (out.account_key.empty()) out.account_key = kDevKey;
    if (out.blob_endpoint.empty()) out.blob_endpoint = kDevEndpoint;
  }
  if (!out.sas_token.empty() && !out.account_key.empty()) {
    return absl::InvalidArgumentError(
        "the Azure connection string has both an AccountKey and a SharedAccessSignature");
  }
  if (out.account_name.empty() && (out.sas_token.empty() || out.blob_endpoint.empty())) {
    return absl::InvalidArgumentError("the Azure connection string has no AccountName");
  }
  if (out.account_key.empty() && out.sas_token.empty()) {
    return absl::InvalidArgumentError(
        "the Azure connection string has neither an AccountKey nor a SharedAccessSignature");
  }
  while (!out.blob_endpoint.empty() && out.blob_endpoint.back() == '/') {
    out.blob_endpoint.pop_back();
  }
  if (out.blob_endpoint.empty()) {
    out.blob_endpoint = StrCat(protocol, "://", out.account_name, ".blob.", suffix);
  }
  while (out.blob_endpoint.back() == '/') out.blob_endpoint.pop_back();  // a suffix ending in '/'
  return out;
}

}  // namespace embers::objstore::azure
