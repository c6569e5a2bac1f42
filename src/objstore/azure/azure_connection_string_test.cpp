// Azure connection strings as the portal and azurite's documentation write them.
#include "objstore/azure/azure_connection_string.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace embers::objstore::azure {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(AzureConnectionStringTest, PortalForm) {
  absl::StatusOr<AzureConnectionString> c = ParseAzureConnectionString(
      "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=a2V5+/==;"
      "EndpointSuffix=core.chinacloudapi.cn");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->account_name, "prod");
  EXPECT_EQ(c->account_key, "a2V5+/==");  // '=' inside values
  EXPECT_EQ(c->blob_endpoint, "https://prod.blob.core.chinacloudapi.cn");
}

TEST(AzureConnectionStringTest, ExplicitBlobEndpointForAzurite) {
  absl::StatusOr<AzureConnectionString> c = ParseAzureConnectionString(
      " defaultendpointsprotocol=http ; AccountName=devstoreaccount1;AccountKey=k==;"
      "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;QueueEndpoint=http://q;");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
}

TEST(AzureConnectionStringTest, DevelopmentStorage) {
  absl::StatusOr<AzureConnectionString> c =
      ParseAzureConnectionString("UseDevelopmentStorage=true");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->account_name, "devstoreaccount1");
  EXPECT_EQ(c->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_FALSE(c->account_key.empty());
}

TEST(AzureConnectionStringTest, SharedAccessSignature) {
  absl::StatusOr<AzureConnectionString> c = ParseAzureConnectionString(
      "BlobEndpoint=https://prod.blob.core.windows.net/;"
      "SharedAccessSignature=?sv=2021-08-06&ss=b&srt=sco&sp=rwdl&se=2030-01-01&sig=a%2Bb%3D");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->account_name, "");
  EXPECT_EQ(c->account_key, "");
  EXPECT_EQ(c->sas_token, "sv=2021-08-06&ss=b&srt=sco&sp=rwdl&se=2030-01-01&sig=a%2Bb%3D");
  EXPECT_EQ(c->blob_endpoint, "https://prod.blob.core.windows.net");
  // Without a BlobEndpoint the account names the endpoint.
  c = ParseAzureConnectionString("AccountName=prod;SharedAccessSignature=sv=1&sig=x");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->blob_endpoint, "https://prod.blob.core.windows.net");
}

TEST(AzureConnectionStringTest, ErrorsNameWhatIsMissingButNeverTheKey) {
  for (std::string_view bad :
       {"AccountName=a", "AccountKey=secretkey", "garbage-secretkey",
        "AccountName=a;AccountKey=secretkey;SharedAccessSignature=sv=1&sig=secretkey",
        "SharedAccessSignature=sv=1&sig=secretkey",
        "DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=secretkey"}) {
    absl::StatusOr<AzureConnectionString> c = ParseAzureConnectionString(bad);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("secretkey"))) << bad;
  }
}

}  // namespace
}  // namespace embers::objstore::azure
