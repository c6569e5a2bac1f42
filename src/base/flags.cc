#include "base/flags.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <type_traits>

#include <optional>

#include "base/status.h"
#include "base/strings.h"
#include "yaml-cpp/yaml.h"

namespace embers {
namespace {

std::string DeriveYamlPath(std::string_view flag_name) {
  std::string path(flag_name);
  std::replace(path.begin(), path.end(), '-', '_');
  return path;
}

// Flattens a YAML mapping into (dotted path, node) leaves; sequences are leaves.
absl::Status Flatten(const YAML::Node& node, const std::string& prefix,
                     std::vector<std::pair<std::string, YAML::Node>>* out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      EMBERS_RETURN_IF_ERROR(
          Flatten(kv.second, prefix.empty() ? key : StrCat(prefix, ".", key), out));
    }
    return absl::OkStatus();
  }
  if (node.IsNull()) return absl::OkStatus();
  out->emplace_back(prefix, node);
  return absl::OkStatus();
}

void InsertYaml(YAML::Node root, std::string_view path, const std::string& value, bool is_list) {
  std::vector<std::string_view> parts = Split(path, '.');
  YAML::Node node = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node child = node[std::string(parts[i])];
    node.reset(child);
  }
  if (is_list) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (std::string_view v : Split(value, ',', /*skip_empty=*/true)) {
      seq.push_back(std::string(v));
    }
    node[std::string(parts.back())] = seq;
  } else {
    node[std::string(parts.back())] = value;
  }
}

}  // namespace

absl::Status ParseGoDuration(std::string_view text, absl::Duration* out) {
  std::string_view s = StripWhitespace(text);
  if (s == "0") {
    *out = absl::ZeroDuration();
    return absl::OkStatus();
  }
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return absl::InvalidArgumentError(StrCat("invalid duration \"", text, "\""));
  absl::Duration total = absl::ZeroDuration();
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return absl::InvalidArgumentError(StrCat("invalid duration \"", text, "\""));
    double value = 0;
    if (!ParseDouble(s.substr(0, i), &value)) {
      return absl::InvalidArgumentError(StrCat("invalid duration \"", text, "\""));
    }
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
                            static_cast<unsigned char>(s[j]) >= 0x80))
      ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    absl::Duration u;
    if (unit == "ns")
      u = absl::Nanoseconds(1);
    else if (unit == "us" || unit == "µs")
      u = absl::Microseconds(1);
    else if (unit == "ms")
      u = absl::Milliseconds(1);
    else if (unit == "s")
      u = absl::Seconds(1);
    else if (unit == "m")
      u = absl::Minutes(1);
    else if (unit == "h")
      u = absl::Hours(1);
    else if (unit == "d")
      u = absl::Hours(24);
    else if (unit == "w")
      u = absl::Hours(24 * 7);
    else {
      return absl::InvalidArgumentError(
          StrCat("invalid duration \"", text, "\": unknown unit \"", unit, "\""));
    }
    total += value * u;
  }
  *out = negative ? -total : total;
  return absl::OkStatus();
}

std::string FormatGoDuration(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  return absl::FormatDuration(d);
}

void FlagSet::Add(Flag flag) {
  if (flag.yaml_path.empty()) flag.yaml_path = DeriveYamlPath(flag.name);
  flag.default_value = flag.get();
  flags_.push_back(std::move(flag));
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void FlagSet::String(std::string name, std::string* target, std::string help, Options opts) {
  Add({.name = std::move(name),
       .yaml_path = opts.yaml_path,
       .type = "string",
       .help = std::move(help),
       .secret = opts.secret,
       .set =
           [target](std::string_view v) {
             *target = std::string(v);
             return absl::OkStatus();
           },
       .get = [target] { return *target; }});
}

// Registration shared by the numeric and boolean flags: parse with `parse`, print with `format`.
template <class T, class ParseFn, class FormatFn>
void FlagSet::AddScalar(std::string name, T* target, std::string type, std::string what,
                        ParseFn parse, FormatFn format, std::string help, Options opts) {
  Add({.name = name,
       .yaml_path = opts.yaml_path,
       .type = type,
       .help = std::move(help),
       .secret = opts.secret,
       .is_bool = std::is_same_v<T, bool>,
       .set =
           [target, name, what, parse](std::string_view v) {
             T x;
             if (!parse(v, &x)) {
               return absl::InvalidArgumentError(
                   StrCat("flag -", name, ": \"", v, "\" is not ", what));
             }
             *target = x;
             return absl::OkStatus();
           },
       .get = [target, format] { return format(*target); }});
}

void FlagSet::Int(std::string name, int64_t* target, std::string help, Options opts) {
  AddScalar(
      std::move(name), target, "int", "an integer", ParseInt64, [](int64_t v) { return StrCat(v); },
      std::move(help), opts);
}

void FlagSet::Int(std::string name, int* target, std::string help, Options opts) {
  AddScalar(
      std::move(name), target, "int", "an integer", ParseInt, [](int v) { return StrCat(v); },
      std::move(help), opts);
}

void FlagSet::Bool(std::string name, bool* target, std::string help, Options opts) {
  AddScalar(
      std::move(name), target, "bool", "a boolean", ParseBool,
      [](bool v) { return std::string(v ? "true" : "false"); }, std::move(help), opts);
}

void FlagSet::Double(std::string name, double* target, std::string help, Options opts) {
  AddScalar(
      std::move(name), target, "float", "a number", ParseDouble, [](double v) { return StrCat(v); },
      std::move(help), opts);
}

void FlagSet::Duration(std::string name, absl::Duration* target, std::string help, Options opts) {
  Add({.name = name,
       .yaml_path = opts.yaml_path,
       .type = "duration",
       .help = std::move(help),
       .secret = opts.secret,
       .set =
           [target, name](std::string_view v) {
             absl::Status s = ParseGoDuration(v, target);
             if (!s.ok())
               return absl::InvalidArgumentError(StrCat("flag -", name, ": ", s.message()));
             return absl::OkStatus();
           },
       .get = [target] { return FormatGoDuration(*target); }});
}

void FlagSet::StringList(std::string name, std::vector<std::string>* target, std::string help,
                         Options opts) {
  Add({.name = std::move(name),
       .yaml_path = opts.yaml_path,
       .type = "list",
       .help = std::move(help),
       .secret = opts.secret,
       .set =
           [target](std::string_view v) {
             target->clear();
             for (std::string_view part : Split(v, ',')) {
               part = StripWhitespace(part);
               if (!part.empty()) target->emplace_back(part);
             }
             return absl::OkStatus();
           },
       .get = [target] { return Join(*target, ","); }});
}

absl::Status FlagSet::Parse(int argc, const char* const* argv) {
  std::vector<std::pair<Flag*, std::string>> assignments;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(StrCat("unexpected argument \"", arg, "\""));
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name == "help" || name == "h") {
      help_requested_ = true;
      continue;
    }
    if (name == "version") {
      version_requested_ = true;
      continue;
    }
    if (name == "config.file") {
      if (!value) {
        if (i + 1 >= argc) return absl::InvalidArgumentError("flag -config.file needs a value");
        value = argv[++i];
      }
      config_file_ = std::string(*value);
      continue;
    }
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("unknown flag -", name, " (see -help for the list)"));
    }
    if (!value) {
      if (flag->is_bool) {
        value = "true";
      } else {
        if (i + 1 >= argc)
          return absl::InvalidArgumentError(StrCat("flag -", name, " needs a value"));
        value = argv[++i];
      }
    }
    assignments.emplace_back(flag, std::string(*value));
  }
  if (!config_file_.empty()) {
    std::ifstream in(config_file_);
    if (!in) {
      return absl::NotFoundError(StrCat("cannot read -config.file ", config_file_));
    }
    std::stringstream text;
    text << in.rdbuf();
    if (absl::Status s = ApplyYaml(text.str()); !s.ok()) {
      return absl::InvalidArgumentError(StrCat(config_file_, ": ", s.message()));
    }
  }
  for (auto& [flag, value] : assignments) {
    if (absl::Status s = flag->set(value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FlagSet::ApplyYaml(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("invalid YAML: ", e.what()));
  }
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) return absl::InvalidArgumentError("configuration must be a YAML mapping");
  std::vector<std::pair<std::string, YAML::Node>> leaves;
  if (absl::Status s = Flatten(root, "", &leaves); !s.ok()) return s;
  for (const auto& [path, node] : leaves) {
    Flag* flag = nullptr;
    for (auto& f : flags_) {
      if (f.yaml_path == path) flag = &f;
    }
    if (flag == nullptr)
      return absl::InvalidArgumentError(StrCat("unknown configuration key ", path));
    std::string value;
    try {
      if (node.IsSequence()) {
        std::vector<std::string> items;
        for (const auto& item : node) items.push_back(item.as<std::string>());
        value = Join(items, ",");
      } else {
        value = node.as<std::string>();
      }
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(StrCat("configuration key ", path, ": ", e.what()));
    }
    if (absl::Status s = flag->set(value); !s.ok()) {
      return absl::InvalidArgumentError(StrCat("configuration key ", path, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::vector<const Flag*> sorted;
  for (const auto& f : flags_) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string out =
      "Usage: embers [flags]\n\n"
      "  -config.file string\n"
      "        YAML configuration file; command-line flags override its values\n"
      "  -help\n        print this help and exit\n"
      "  -version\n        print the version and exit\n";
  for (const Flag* f : sorted) {
    out += StrCat("  -", f->name, " ", f->type, "\n        ", f->help);
    std::string def = f->secret && !f->default_value.empty() ? "********" : f->default_value;
    out += StrCat(" (default \"", def, "\")\n");
  }
  return out;
}

std::string FlagSet::EffectiveYaml() const { return Yaml(YamlView::kEffective); }

std::string FlagSet::Yaml(YamlView view) const {
  YAML::Node root(YAML::NodeType::Map);
  std::vector<const Flag*> sorted;
  for (const auto& f : flags_) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* a, auto* b) { return a->yaml_path < b->yaml_path; });
  for (const Flag* f : sorted) {
    std::string value = view == YamlView::kDefaults ? f->default_value : f->get();
    if (view == YamlView::kDiff && value == f->default_value) continue;
    if (f->secret && !value.empty()) value = "********";
    InsertYaml(root, f->yaml_path, value, f->type == "list");
  }
  // An empty map renders as "{}", which every YAML reader takes as "nothing set".
  YAML::Emitter emitter;
  emitter << root;
  return std::string(emitter.c_str()) + "\n";
}

}  // namespace embers
