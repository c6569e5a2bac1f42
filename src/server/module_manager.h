// ModuleManager: starts the components a process runs (-target) in dependency order.
//
// Each module (server, storage, metastore, distributor, segment-writer, compaction-worker,
// query-frontend, query-backend) declares the modules it depends on. Asking for a target starts
// its transitive dependencies first; Stop() stops them in reverse order, each within the shutdown
// deadline. /ready is 200 only while every started module reports ready. Used by src/server/app.cc.
#ifndef EMBERS_SERVER_MODULE_MANAGER_H_
#define EMBERS_SERVER_MODULE_MANAGER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace embers::server {

class Module {
 public:
  virtual ~Module() = default;
  // Starts the module's work; must not block for long (threads are started, not joined).
  virtual absl::Status Start() = 0;
  // Stops gracefully, finishing or failing in-flight work, by `deadline`.
  virtual void Stop(absl::Time deadline) = 0;
  virtual bool Ready() const { return true; }
  // Why the module is not ready (e.g. the bucket cannot be opened), for /ready; "" if there is
  // nothing to add to its name. Called from I/O threads, also while Start() runs.
  virtual std::string NotReadyReason() const { return {}; }
};

// One module's state as /ready reports it.
struct ModuleState {
  std::string name;
  bool ready = false;
  std::string reason;  // Module::NotReadyReason() when not ready
};

class ModuleManager {
 public:
  using Factory = std::function<std::unique_ptr<Module>()>;

  // `user_visible` modules may be named in -target; the others are internal (server, storage).
  void Register(std::string name, std::vector<std::string> dependencies, Factory factory,
                bool user_visible = true);
  // Registers a name that stands for several modules (e.g. "all").
  void RegisterAlias(std::string name, std::vector<std::string> modules);

  // Resolves the targets to modules in start order. InvalidArgument names an unknown target.
  absl::StatusOr<std::vector<std::string>> Resolve(const std::vector<std::string>& targets) const;
  // Creates every module of Resolve(targets), then starts them in order. On failure the already
  // started ones stop.
  absl::Status Start(const std::vector<std::string>& targets);
  // Destroys the stopped modules (after Stop, once no server thread can reach them).
  void ReleaseStopped();
  void Stop(absl::Time deadline);

  bool AllReady() const;
  // Every started module and the one starting now, in start order.
  std::vector<ModuleState> States() const;
  std::vector<std::string> UserVisibleNames() const;

 private:
  struct Entry {
    std::string name;
    std::vector<std::string> dependencies;
    Factory factory;
    bool user_visible;
  };
  const Entry* Find(const std::string& name) const;

  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::vector<std::string>>> aliases_;
  // Guards started_ and all_started_: /ready reads them from an I/O thread while Start() runs.
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> started_;
  // Stopped modules live until the manager is destroyed: routes and services they registered
  // may still be running on the server's threads until the server module (stopped last) is done,
  // and those capture the module. Guarded by mu_.
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> stopped_;
  // The module whose Start() is running (it may wait, e.g. for the bucket), owned by Start().
  std::pair<std::string, const Module*> starting_{"", nullptr};
  bool all_started_ = false;
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_MODULE_MANAGER_H_
