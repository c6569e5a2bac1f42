#include "objstore/s3/s3rver_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/test_ports.h"
#include "objstore/http/http_client.h"

namespace embers::objstore::s3 {

using ::embers::objstore::http::HttpClient;
using ::embers::objstore::http::HttpResponse;
namespace {

constexpr std::string_view kInstallHint =
    "run scripts/install-deps.sh --test (it installs node and the npm packages of tests/node, "
    "s3rver among them)";

std::string FindOnPath(const std::string& program) {
  const char* path = ::getenv("PATH");
  for (std::string_view dir : Split(path == nullptr ? "" : path, ':', true)) {
    std::string candidate = StrCat(dir, "/", program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Starts the server; the child dies with the test process even when that one crashes.
pid_t Spawn(const std::string& node, const std::vector<std::string>& args,
            const std::string& log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(node.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls until exec.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0) ::_exit(126);
  ::dup2(null, 0);
  ::dup2(log, 1);
  ::dup2(log, 2);
  ::execv(node.c_str(), argv.data());
  ::_exit(127);
}

// Asks for the bucket's listing: 200 when the server is up and the bucket configured.
bool Answers(HttpClient& http, const std::string& url) {
  absl::StatusOr<HttpResponse> r = http.Send({.url = url});
  return r.ok() && r->status == 200;
}

// An HTTP client for the fixture's own requests (readiness, bucket creation), which need no
// certificate checks.
absl::StatusOr<std::unique_ptr<HttpClient>> FixtureClient() {
  return HttpClient::Create({.max_connections = 1,
                             .connect_timeout = absl::Seconds(1),
                             .deadline = absl::Seconds(5),
                             .max_attempts = 1,
                             .verify_tls = false});
}

}  // namespace

absl::StatusOr<std::unique_ptr<S3rverProcess>> S3rverProcess::Start(const std::string& dir,
                                                                    const std::string& bucket,
                                                                    const Tls& tls) {
  const std::string installed =
      StrCat(EMBERS_SOURCE_DIR, "/tests/node/node_modules/s3rver/bin/s3rver.js");
  if (::access(installed.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        StrCat("s3rver is not installed (", installed, " is missing): ", kInstallHint));
  }
  // s3rver with S3's atomic overwrites and byte-ordered listings (see the script).
  const std::string script = StrCat(EMBERS_SOURCE_DIR, "/tests/node/s3rver_s3_semantics.cjs");
  const std::string node = FindOnPath("node");
  if (node.empty()) {
    return absl::FailedPreconditionError(StrCat("node is not on PATH: ", kInstallHint));
  }
  const std::string data_dir = dir + "/s3rver-data";
  if (::mkdir(data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(StrCat("mkdir ", data_dir, " failed"));
  }
  const std::string log_path = dir + "/s3rver.log";
  absl::StatusOr<std::unique_ptr<HttpClient>> http = FixtureClient();
  if (!http.ok()) return http.status();
  std::string failure;
  // A port picked free may be taken by the time s3rver binds it: then another one.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = testing::FreeLoopbackPort();
    const std::string endpoint = StrCat("127.0.0.1:", port);
    std::vector<std::string> args = {"--openssl-legacy-provider",
                                     script,
                                     "-d",
                                     data_dir,
                                     "-a",
                                     "127.0.0.1",
                                     "-p",
                                     StrCat(port),
                                     "--service-endpoint",
                                     "localhost",
                                     "--configure-bucket",
                                     bucket,
                                     "--silent"};
    if (!tls.cert_path.empty()) {
      args.insert(args.end(), {"--cert", tls.cert_path, "--key", tls.key_path});
    }
    const pid_t pid = Spawn(node, args, log_path);
    if (pid < 0) return absl::InternalError("fork failed");
    auto process = std::unique_ptr<S3rverProcess>(
        new S3rverProcess(pid, endpoint, log_path, !tls.cert_path.empty()));
    const std::string probe = StrCat(process->tls_ ? "https://" : "http://", endpoint, "/", bucket,
                                     "?list-type=2&max-keys=1");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      int wstatus = 0;
      if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
        process->pid_ = -1;  // already reaped
        break;
      }
      if (Answers(**http, probe)) return process;
      absl::SleepFor(absl::Milliseconds(100));
    }
    failure = StrCat("s3rver (", node, " ", script, ") did not answer on ", endpoint,
                     " within 30 s; its output:\n", LogTail(log_path));
  }
  return absl::UnavailableError(failure);
}

S3rverProcess::~S3rverProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid_, &wstatus, 0);
}

std::string S3rverProcess::vhost_endpoint() const {
  return StrCat("s3.localhost", endpoint_.substr(endpoint_.rfind(':')));
}

absl::Status S3rverProcess::CreateBucket(const std::string& bucket) const {
  absl::StatusOr<std::unique_ptr<HttpClient>> http = FixtureClient();
  if (!http.ok()) return http.status();
  absl::StatusOr<HttpResponse> r = (*http)->Send(
      {.method = "PUT", .url = StrCat(tls_ ? "https://" : "http://", endpoint_, "/", bucket)});
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(
        StrCat("creating bucket ", bucket, " on s3rver: HTTP ", r->status, " ", r->body));
  }
  return absl::OkStatus();
}

S3BucketOptions S3rverProcess::BucketOptions(const std::string& bucket) const {
  S3BucketOptions options;
  options.endpoint = endpoint_;
  options.bucket = bucket;
  options.credentials = {.access_key_id = kAccessKeyId, .secret_access_key = kSecretAccessKey};
  options.insecure = !tls_;
  options.force_path_style = true;
  return options;
}

}  // namespace embers::objstore::s3
