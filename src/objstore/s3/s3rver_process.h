// S3rverProcess: a real S3-compatible server (the npm package s3rver, pinned in
// tests/node/package.json) on a free loopback port, started and killed by the test that needs it.
// Test-only; used by the S3 instantiation of the bucket conformance suite and by
// s3_bucket_test.cpp.
//
// s3rver 3.7 runs under `node --openssl-legacy-provider`: it makes continuation tokens with DES,
// which Node 17+ (OpenSSL 3) refuses otherwise, and every truncated listing would be a 500. It is
// started through tests/node/s3rver_s3_semantics.cjs, which gives its filesystem store the two
// S3 guarantees it lacks (atomic overwrites, listings in byte order); the protocol is s3rver's.
// It accepts any signature (it checks only that the access key id exists), so it proves the
// protocol and the data; signatures are proven by sigv4_test.cpp and tests/node/sigv4.test.mjs.
#ifndef EMBERS_OBJSTORE_S3_S3RVER_PROCESS_H_
#define EMBERS_OBJSTORE_S3_S3RVER_PROCESS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "objstore/http/node_server_process.h"
#include "objstore/s3/s3_bucket.h"

namespace embers::objstore::s3 {

class S3rverProcess {
 public:
  // The credentials s3rver knows.
  static constexpr const char* kAccessKeyId = "S3RVER";
  static constexpr const char* kSecretAccessKey = "S3RVER";

  // PEM certificate and key to serve https with (both empty: http).
  struct Tls {
    std::string cert_path;
    std::string key_path;
  };

  // Starts s3rver storing its objects under `dir` (which must exist), with an empty bucket
  // `bucket`, and waits until it answers. FailedPrecondition, saying to run
  // scripts/install-deps.sh --test, when node or s3rver is not installed.
  static absl::StatusOr<std::unique_ptr<S3rverProcess>> Start(const std::string& dir,
                                                              const std::string& bucket,
                                                              const Tls& tls = {});
  // Stops the server (SIGTERM, then SIGKILL).
  ~S3rverProcess();
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  // "127.0.0.1:<port>"
  const std::string& endpoint() const { return endpoint_; }
  // "s3.localhost:<port>": the endpoint for virtual-host style. s3rver maps the host
  // <bucket>.s3.localhost to the bucket (its service endpoint is set to "localhost"), and libcurl
  // resolves every *.localhost name to the loopback address itself.
  std::string vhost_endpoint() const;
  // Creates another empty bucket (3 to 63 characters: lower-case letters, digits, '-').
  absl::Status CreateBucket(const std::string& bucket) const;
  // Options for an S3Bucket on `bucket` of this server: path style, s3rver's credentials, http
  // (https without a CA: set http.ca_file or http.verify_tls).
  S3BucketOptions BucketOptions(const std::string& bucket) const;

 private:
  S3rverProcess(std::unique_ptr<http::NodeServerProcess> process, std::string endpoint, bool tls)
      : process_(std::move(process)), endpoint_(std::move(endpoint)), tls_(tls) {}

  std::unique_ptr<http::NodeServerProcess> process_;
  std::string endpoint_;
  bool tls_;
};

}  // namespace embers::objstore::s3

#endif  // EMBERS_OBJSTORE_S3_S3RVER_PROCESS_H_
