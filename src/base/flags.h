// FlagSet: the command-line and YAML configuration of one process.
//
// Every setting of `embers` is registered once, with a default, help text and the name Pyroscope
// uses for it (`-server.http-listen-port`). The same setting is reachable from the YAML file given
// by `-config.file`, at the path derived from the flag name (`server: {http_listen_port: 4040}`).
// Precedence is default < YAML < command line. The effective values can be rendered back as YAML
// (secrets masked) for `GET /config`. Used by src/server/config.cc and the tools in src/cmd.
#ifndef EMBERS_BASE_FLAGS_H_
#define EMBERS_BASE_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace embers {

struct FlagOptions {
  // Overrides the YAML path derived from the flag name ("a.b-c" -> "a.b_c").
  std::string yaml_path;
  // Rendered as "********" by EffectiveYaml() when non-empty.
  bool secret = false;
};

class FlagSet {
 public:
  using Options = FlagOptions;

  FlagSet() = default;
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Registration. `target` holds the default on entry and must outlive the FlagSet.
  void String(std::string name, std::string* target, std::string help, Options opts = {});
  void Int(std::string name, int64_t* target, std::string help, Options opts = {});
  void Int(std::string name, int* target, std::string help, Options opts = {});
  void Bool(std::string name, bool* target, std::string help, Options opts = {});
  void Double(std::string name, double* target, std::string help, Options opts = {});
  // Go-style durations: "500ms", "1m30s", "2h", plus "d" and "w" units ("31d"); "0" is zero.
  void Duration(std::string name, absl::Duration* target, std::string help, Options opts = {});
  // Comma-separated on the command line, a list or a comma string in YAML.
  void StringList(std::string name, std::vector<std::string>* target, std::string help,
                  Options opts = {});

  // Parses argv (skipping argv[0]). Accepts `-name=value`, `--name=value`, `-name value` and, for
  // booleans, bare `-name`. `-config.file` is read first so that the command line overrides the
  // YAML file wherever both set a value. `-help` / `-version` are reported through help_requested()
  // / version_requested() rather than handled here.
  absl::Status Parse(int argc, const char* const* argv);

  // Applies a YAML document (used by Parse for -config.file; exposed for tests).
  absl::Status ApplyYaml(std::string_view yaml_text);

  bool help_requested() const { return help_requested_; }
  bool version_requested() const { return version_requested_; }

  // `embers -help` text: every flag with its type, default and help, sorted by name.
  std::string Usage() const;
  // The configuration as YAML, secrets masked: what is in effect (GET /config), the defaults, or
  // only the settings that differ from their defaults (GET /api/v1/status/config/diff).
  enum class YamlView { kEffective, kDefaults, kDiff };
  std::string Yaml(YamlView view) const;
  std::string EffectiveYaml() const;

 private:
  struct Flag {
    std::string name;
    std::string yaml_path;
    std::string type;
    std::string help;
    bool secret = false;
    bool is_bool = false;
    std::function<absl::Status(std::string_view)> set;
    std::function<std::string()> get;
    std::string default_value = {};  // filled by Add()
  };

  void Add(Flag flag);
  template <class T, class ParseFn, class FormatFn>
  void AddScalar(std::string name, T* target, std::string type, std::string what, ParseFn parse,
                 FormatFn format, std::string help, Options opts);
  Flag* Find(std::string_view name);

  std::vector<Flag> flags_;
  std::string config_file_;
  bool help_requested_ = false;
  bool version_requested_ = false;
};

// Parses a Go-style duration ("1h30m", "500ms", "31d"). Exposed for other config parsers.
absl::Status ParseGoDuration(std::string_view text, absl::Duration* out);
// Formats a duration the way ParseGoDuration reads it back ("1h30m0s" style, "0s" for zero).
std::string FormatGoDuration(absl::Duration d);

}  // namespace embers

#endif  // EMBERS_BASE_FLAGS_H_
