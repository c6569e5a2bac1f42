#include "objstore/http/node_server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "base/test_ports.h"

namespace embers::objstore::http {
namespace {

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

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> NodeServerProcess::FixtureClient() {
  return HttpClient::Create({.max_connections = 1,
                             .connect_timeout = absl::Seconds(1),
                             .deadline = absl::Seconds(5),
                             .max_attempts = 1,
                             .verify_tls = false});
}

absl::StatusOr<std::unique_ptr<NodeServerProcess>> NodeServerProcess::Start(
    const NodeServerSpec& spec) {
  if (::access(spec.script.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        StrCat(spec.name, " is not installed (", spec.script, " is missing): ", spec.install_hint));
  }
  const std::string node = FindOnPath("node");
  if (node.empty()) {
    return absl::FailedPreconditionError(StrCat("node is not on PATH: ", spec.install_hint));
  }
  absl::StatusOr<std::unique_ptr<HttpClient>> http = FixtureClient();
  if (!http.ok()) return http.status();
  std::string failure;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = testing::FreeLoopbackPort();
    const pid_t pid = Spawn(node, spec.args(port), spec.log_path);
    if (pid < 0) return absl::InternalError("fork failed");
    auto process = std::unique_ptr<NodeServerProcess>(new NodeServerProcess(pid, port));
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      int wstatus = 0;
      if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
        process->pid_ = -1;  // already reaped
        break;
      }
      if (spec.answers(**http, port)) return process;
      absl::SleepFor(absl::Milliseconds(100));
    }
    failure = StrCat(spec.name, " (", node, " ", spec.script, ") did not answer on port ", port,
                     " within 30 s; its output:\n", LogTail(spec.log_path));
  }
  return absl::UnavailableError(failure);
}

NodeServerProcess::~NodeServerProcess() {
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

}  // namespace embers::objstore::http
