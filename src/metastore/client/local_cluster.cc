#include "metastore/client/local_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "base/strings.h"

extern char** environ;

namespace embers::metastore {

namespace {

absl::StatusOr<pid_t> SpawnProcess(const std::string& bin, const std::vector<std::string>& args,
                                   const std::string& log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(bin.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rv = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rv != 0) return absl::InternalError(StrCat("spawn ", bin, ": ", strerror(rv)));
  return pid;
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(LocalClusterOptions options) {
  if (options.embers_bin.empty() || !std::filesystem::exists(options.embers_bin)) {
    return absl::NotFoundError(StrCat("embers binary not found: \"", options.embers_bin, "\""));
  }
  std::unique_ptr<LocalCluster> c(new LocalCluster());
  c->options_ = std::move(options);
  std::string tmpl = (std::filesystem::temp_directory_path() / "embers-cluster-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  c->dir_ = tmpl;
  c->nodes_.resize(static_cast<size_t>(c->options_.nodes));
  for (Node& n : c->nodes_) {
    n.http_port = FreeLoopbackPort();
    n.grpc_port = FreeLoopbackPort();
    n.raft_port = FreeLoopbackPort();
  }
  MetastoreClientOptions admin;
  admin.addresses = c->grpc_addresses();
  absl::StatusOr<std::unique_ptr<MetastoreClient>> client = MetastoreClient::Create(admin);
  if (!client.ok()) return client.status();
  c->admin_ = std::move(*client);
  for (int i = 0; i < c->size(); i++) {
    if (absl::Status s = c->StartNode(i); !s.ok()) return s;
  }
  return c;
}

LocalCluster::~LocalCluster() {
  for (int i = 0; i < size(); i++) Kill(i);
  for (pid_t pid : extra_pids_) KillAndReap(pid);
  admin_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string LocalCluster::grpc_address(int i) const {
  return StrCat("127.0.0.1:", nodes_[i].grpc_port);
}

std::vector<std::string> LocalCluster::grpc_addresses() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); i++) out.push_back(grpc_address(i));
  return out;
}

std::vector<std::string> LocalCluster::NodeArgs(int i) const {
  const Node& n = nodes_[i];
  std::vector<std::string> peers;
  for (int j = 0; j < size(); j++) {
    peers.push_back(StrCat(j + 1, "=127.0.0.1:", nodes_[j].raft_port));
  }
  std::string node_dir = StrCat(dir_, "/node-", i);
  std::vector<std::string> args = {
      "-target=metastore",
      "-server.http-listen-address=127.0.0.1",
      StrCat("-server.http-listen-port=", n.http_port),
      // The metastore's services are on the internal listener; the public one takes any port.
      "-server.grpc-listen-address=127.0.0.1",
      "-server.grpc-listen-port=0",
      "-server.internal-grpc-listen-address=127.0.0.1",
      StrCat("-server.internal-grpc-listen-port=", n.grpc_port),
      StrCat("-storage.filesystem.dir=", node_dir, "/bucket"),
      StrCat("-metastore.data-dir=", node_dir, "/metastore"),
      StrCat("-metastore.raft.node-id=", i + 1),
      StrCat("-metastore.raft.bind-address=127.0.0.1:", n.raft_port),
      StrCat("-metastore.raft.bootstrap-peers=", Join(peers, ",")),
  };
  for (const std::string& a : options_.extra_args) args.push_back(a);
  return args;
}

absl::Status LocalCluster::StartNode(int i) {
  if (nodes_[i].pid > 0) return absl::FailedPreconditionError(StrCat("node ", i, " is running"));
  absl::StatusOr<pid_t> pid =
      SpawnProcess(options_.embers_bin, NodeArgs(i), StrCat(dir_, "/node-", i, ".log"));
  if (!pid.ok()) return pid.status();
  nodes_[i].pid = *pid;
  return absl::OkStatus();
}

void LocalCluster::Kill(int i) {
  KillAndReap(nodes_[i].pid);
  nodes_[i].pid = 0;
}

absl::StatusOr<pid_t> LocalCluster::Spawn(const std::string& name,
                                          const std::vector<std::string>& args) {
  absl::StatusOr<pid_t> pid =
      SpawnProcess(options_.embers_bin, args, StrCat(dir_, "/", name, ".log"));
  if (pid.ok()) extra_pids_.push_back(*pid);
  return pid;
}

absl::StatusOr<v1::NodeInfoResponse> LocalCluster::NodeInfo(int i, absl::Duration timeout) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> future = promise->get_future();
  auto response = std::make_shared<v1::NodeInfoResponse>();
  admin_->NodeInfo(grpc_address(i), timeout, response.get(),
                   [promise, response](absl::Status s) { promise->set_value(std::move(s)); });
  absl::Status s = future.get();  // bounded by the call's deadline
  if (!s.ok()) return s;
  return *response;
}

int LocalCluster::WaitLeader(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    for (int i = 0; i < size(); i++) {
      if (!running(i)) continue;
      absl::StatusOr<v1::NodeInfoResponse> info = NodeInfo(i, absl::Milliseconds(500));
      if (info.ok() && info->state() == "leader" && info->ready()) return i;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string LocalCluster::LogTail(int i, size_t bytes) const {
  std::ifstream in(StrCat(dir_, "/node-", i, ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace embers::metastore
