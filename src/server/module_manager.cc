#include "server/module_manager.h"
#include "base/strings.h"

#include <algorithm>
#include <functional>

#include "absl/container/flat_hash_set.h"
#include "base/logging.h"

namespace embers::server {

void ModuleManager::Register(std::string name, std::vector<std::string> dependencies,
                             Factory factory, bool user_visible) {
  entries_.push_back({std::move(name), std::move(dependencies), std::move(factory), user_visible});
}

void ModuleManager::RegisterAlias(std::string name, std::vector<std::string> modules) {
  aliases_.emplace_back(std::move(name), std::move(modules));
}

const ModuleManager::Entry* ModuleManager::Find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> ModuleManager::UserVisibleNames() const {
  std::vector<std::string> names;
  for (const auto& [alias, _] : aliases_) names.push_back(alias);
  for (const auto& e : entries_) {
    if (e.user_visible) names.push_back(e.name);
  }
  return names;
}

absl::StatusOr<std::vector<std::string>> ModuleManager::Resolve(
    const std::vector<std::string>& targets) const {
  if (targets.empty()) return absl::InvalidArgumentError("-target is empty");
  std::vector<std::string> order;
  absl::flat_hash_set<std::string> done, visiting;
  std::function<absl::Status(const std::string&, bool)> visit =
      [&](const std::string& name, bool from_user) -> absl::Status {
    if (done.contains(name)) return absl::OkStatus();
    for (const auto& [alias, members] : aliases_) {
      if (alias == name) {
        for (const auto& m : members) {
          if (absl::Status s = visit(m, false); !s.ok()) return s;
        }
        return absl::OkStatus();
      }
    }
    const Entry* e = Find(name);
    if (e == nullptr || (from_user && !e->user_visible)) {
      return absl::InvalidArgumentError(
          StrCat("unknown target \"", name, "\"; valid: ", Join(UserVisibleNames(), ", ")));
    }
    if (!visiting.insert(name).second) {
      return absl::InternalError(StrCat("module dependency cycle at ", name));
    }
    for (const auto& dep : e->dependencies) {
      if (absl::Status s = visit(dep, false); !s.ok()) return s;
    }
    visiting.erase(name);
    done.insert(name);
    order.push_back(name);
    return absl::OkStatus();
  };
  for (const auto& t : targets) {
    if (absl::Status s = visit(t, true); !s.ok()) return s;
  }
  return order;
}

absl::Status ModuleManager::Start(const std::vector<std::string>& targets) {
  absl::StatusOr<std::vector<std::string>> order = Resolve(targets);
  if (!order.ok()) return order.status();
  // Create every module before starting any: constructors register HTTP routes and gRPC services,
  // which must all exist before the server module binds its ports.
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> created;
  for (const auto& name : *order) created.emplace_back(name, Find(name)->factory());
  for (auto& [name, module] : created) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      starting_ = {name, module.get()};
    }
    absl::Status st = module->Start();
    {
      std::lock_guard<std::mutex> lock(mu_);
      starting_ = {"", nullptr};
    }
    if (!st.ok()) {
      log::Error("module failed to start", {{"module", name}, {"error", st.ToString()}});
      Stop(absl::Now() + absl::Seconds(5));
      return absl::Status(st.code(), StrCat("starting ", name, ": ", st.message()));
    }
    log::Info("module started", {{"module", name}});
    std::lock_guard<std::mutex> lock(mu_);
    started_.emplace_back(name, std::move(module));
  }
  std::lock_guard<std::mutex> lock(mu_);
  all_started_ = true;
  return absl::OkStatus();
}

void ModuleManager::Stop(absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    all_started_ = false;  // stopping: not ready any more
  }
  while (true) {
    std::pair<std::string, std::unique_ptr<Module>> entry;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (started_.empty()) break;
      entry = std::move(started_.back());
      started_.pop_back();
    }
    entry.second->Stop(deadline);
    log::Info("module stopped", {{"module", entry.first}});
    std::lock_guard<std::mutex> lock(mu_);
    stopped_.push_back(std::move(entry));
  }
}

void ModuleManager::ReleaseStopped() {
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> stopped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped.swap(stopped_);
  }
  // In stop order: the last started goes first, as it was stopped first.
  for (auto& entry : stopped) entry.second.reset();
}

bool ModuleManager::AllReady() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!all_started_ || started_.empty()) return false;
  return std::all_of(started_.begin(), started_.end(),
                     [](const auto& m) { return m.second->Ready(); });
}

std::vector<ModuleState> ModuleManager::States() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModuleState> out;
  auto add = [&out](const std::string& name, const Module& module, bool started) {
    // A module is ready only once its Start() returned.
    ModuleState& s =
        out.emplace_back(ModuleState{.name = name, .ready = started && module.Ready()});
    if (!s.ready) s.reason = module.NotReadyReason();
  };
  for (const auto& [name, module] : started_) add(name, *module, true);
  if (starting_.second != nullptr) add(starting_.first, *starting_.second, false);
  return out;
}

}  // namespace embers::server
