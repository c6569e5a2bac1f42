// -metastore.address entries as the client will dial them: host:port passes through, dns+ names
// become every address they resolve to (localhost stands in for a headless Service: it resolves
// through /etc/hosts on every test machine, to 127.0.0.1 and, where the file says so, ::1), and a
// malformed entry or an unknown name is an error that says which.
#include "metastore/client/address_resolver.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace embers::metastore {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ResolveAddressesTest, PassesHostPortThroughUnchanged) {
  absl::StatusOr<std::vector<std::string>> r =
      ResolveAddresses({"metastore-0.metastore:9096", "10.0.0.1:9096", "[fd00::1]:9096"});
  ASSERT_TRUE(r.ok()) << r.status();
  // A name without dns+ is not looked up here (gRPC resolves it), so it need not exist.
  EXPECT_THAT(*r, ElementsAre("metastore-0.metastore:9096", "10.0.0.1:9096", "[fd00::1]:9096"));
}

TEST(ResolveAddressesTest, ResolvesDnsEntriesToEveryAddress) {
  absl::StatusOr<std::vector<std::string>> r = ResolveAddresses({"dns+localhost:9096"});
  ASSERT_TRUE(r.ok()) << r.status();
  // IPv4 first: the list is sorted and '[' sorts after the digits.
  EXPECT_THAT(*r,
              AnyOf(ElementsAre("127.0.0.1:9096"), ElementsAre("127.0.0.1:9096", "[::1]:9096")));
}

TEST(ResolveAddressesTest, IpLiteralsAfterDnsResolveToThemselves) {
  absl::StatusOr<std::vector<std::string>> r =
      ResolveAddresses({"dns+127.0.0.2:1", "dns+[::1]:65535"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre("127.0.0.2:1", "[::1]:65535"));
}

TEST(ResolveAddressesTest, KeepsEachAddressOnceWhereItFirstAppears) {
  absl::StatusOr<std::vector<std::string>> r = ResolveAddresses(
      {"127.0.0.1:9096", "dns+localhost:9096", "dns+localhost:9097", "127.0.0.1:9096"});
  ASSERT_TRUE(r.ok()) << r.status();
  // 127.0.0.1:9096, [::1]:9096 if localhost has it, 127.0.0.1:9097, [::1]:9097 likewise.
  ASSERT_GE(r->size(), 2u);
  EXPECT_EQ(r->front(), "127.0.0.1:9096");
  EXPECT_EQ(std::count(r->begin(), r->end(), "127.0.0.1:9096"), 1);
  EXPECT_EQ(std::count(r->begin(), r->end(), "127.0.0.1:9097"), 1);
  EXPECT_THAT(r->size(), AnyOf(2u, 4u));
}

TEST(ResolveAddressesTest, EmptyListIsEmpty) {
  absl::StatusOr<std::vector<std::string>> r = ResolveAddresses({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
}

TEST(ResolveAddressesTest, RefusesMalformedEntries) {
  for (const char* entry : {"",
                            "localhost",
                            "dns+localhost",
                            "localhost:",
                            "dns+localhost:",
                            ":9096",
                            "dns+:9096",
                            "localhost:0",
                            "localhost:65536",
                            "localhost:99999999",
                            "localhost:+80",
                            "localhost: 80",
                            "localhost:80x",
                            "localhost:-1",
                            "dns+localhost:http",
                            "::1:9096",
                            "[::1:9096",
                            "[::1]9096",
                            "[]:9096",
                            "dns+"}) {
    absl::StatusOr<std::vector<std::string>> r = ResolveAddresses({"127.0.0.1:1", entry});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << entry << "\"";
    if (*entry != '\0') {
      EXPECT_THAT(r.status().message(), HasSubstr(entry)) << "the message names the entry";
    }
  }
}

TEST(ResolveAddressesTest, UnknownNameIsUnavailableAndNamesTheHost) {
  // .invalid never resolves (RFC 2606), whatever the resolver.
  absl::StatusOr<std::vector<std::string>> r =
      ResolveAddresses({"127.0.0.1:1", "dns+no-such-metastore.invalid:9096"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("no-such-metastore.invalid"));
}

}  // namespace
}  // namespace embers::metastore
