// The `name` query parameter of POST /ingest: "app.name[.suffix]{key1=value1,key2=value2}".
//
// Pyroscope's labelset grammar (api/model/labelset): the text before the first '{' is the
// application name (trimmed; required; characters [A-Za-z0-9_.\-/]); inside the braces,
// comma-separated key=value tags with keys and values trimmed. Keys use [A-Za-z0-9_.]; a value is
// any text up to the next ',' or '}'. A "__name__" tag replaces the application name. Duplicate
// keys: the last one wins.
//
// Where upstream silently drops input we report it instead (InvalidArgument naming the 0-based
// character position): a missing '}', a tag without '=', text after the closing '}'. Tags with an
// empty value are dropped (an empty label value means "no label").
//
// Used by the /ingest handler; the application name's last dot-suffix then selects the profile
// type (profile_kind.h).
#ifndef EMBERS_INGEST_LEGACY_APP_NAME_H_
#define EMBERS_INGEST_LEGACY_APP_NAME_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::ingest {

struct AppName {
  std::string name;  // including the profile-type suffix, e.g. "my.app.cpu"
  // Tags in first-appearance order, keys unique; never contains "__name__".
  std::vector<std::pair<std::string, std::string>> tags;

  // The value of tag `key`, or nullptr.
  const std::string* FindTag(std::string_view key) const;
};

absl::StatusOr<AppName> ParseAppName(std::string_view text);

// Character rules, shared with the checks elsewhere in the legacy ingest path.
bool IsAppNameChar(char c);
bool IsTagKeyChar(char c);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_APP_NAME_H_
