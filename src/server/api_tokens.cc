#include "server/api_tokens.h"

#include <sys/random.h>

#include <array>
#include <vector>

#include "absl/strings/escaping.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "model/tenant_id.h"

namespace embers::server {
namespace {

constexpr std::string_view kTokenPrefix = "emb_";
constexpr size_t kIdHexDigits = 16;
constexpr size_t kSecretHexDigits = 32;
constexpr size_t kMaxDescriptionBytes = 256;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  size_t got = 0;
  while (got < bytes) {
    // getrandom blocks only until the kernel's pool is first initialised (early boot).
    ssize_t n = ::getrandom(buf.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return LowerHex(std::string_view(reinterpret_cast<const char*>(buf.data()), bytes));
}

}  // namespace

absl::StatusOr<uint8_t> ParseScopes(std::string_view comma_separated) {
  uint8_t scopes = 0;
  for (std::string_view s : Split(comma_separated, ',')) {
    s = StripWhitespace(s);
    if (s == "read") {
      scopes |= kScopeRead;
    } else if (s == "write") {
      scopes |= kScopeWrite;
    } else if (!s.empty()) {
      return absl::InvalidArgumentError(
          StrCat("unknown token scope \"", s, "\": use read, write or read,write"));
    }
  }
  if (scopes == 0) return absl::InvalidArgumentError("a token needs a scope: read, write or both");
  return scopes;
}

std::string FormatScopes(uint8_t scopes) {
  std::string out;
  if (scopes & kScopeRead) out = "read";
  if (scopes & kScopeWrite) out += out.empty() ? "write" : ",write";
  return out;
}

TokenScope RequiredScope(std::string_view path) {
  static constexpr std::string_view kWritePrefixes[] = {
      "/push.v1.PusherService/",
      "/ingest",
      "/pyroscope/ingest",
      "/v1development/profiles",
      "/opentelemetry.proto.collector.profiles.",
      "/settings.v1.SettingsService/Set",
      "/adhocprofiles.v1.AdHocProfileService/Upload",
  };
  for (std::string_view prefix : kWritePrefixes) {
    if (path.starts_with(prefix)) return kScopeWrite;
  }
  return kScopeRead;
}

IssuedToken IssueToken(std::string tenant, uint8_t scopes, std::string description,
                       int64_t now_ms) {
  IssuedToken out;
  out.record.id = RandomHex(kIdHexDigits / 2);
  const std::string secret = RandomHex(kSecretHexDigits / 2);
  out.record.tenant = std::move(tenant);
  out.record.scopes = scopes;
  out.record.created_ms = now_ms;
  out.record.secret_sha256 = Sha256Hex(secret);
  out.record.description = std::move(description);
  out.token = StrCat(kTokenPrefix, out.record.id, secret);
  return out;
}

// "<tenant>\t<scopes>\t<created_ms>\t<sha256>\t<description>": tenant ids and scopes hold no tab,
// and the description is last, so it may.
std::string EncodeTokenRecord(const ApiToken& t) {
  return StrCat(t.tenant, "\t", FormatScopes(t.scopes), "\t", t.created_ms, "\t", t.secret_sha256,
                "\t", t.description);
}

absl::StatusOr<ApiToken> DecodeTokenRecord(std::string_view id, std::string_view value) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(StrCat("API token record ", id, ": ", why));
  };
  if (id.size() != kIdHexDigits || !IsLowerHex(id)) return bad("the id is not 16 hex digits");
  std::vector<std::string_view> f;
  size_t start = 0;
  while (f.size() < 4) {
    size_t tab = value.find('\t', start);
    if (tab == std::string_view::npos) return bad("too few fields");
    f.push_back(value.substr(start, tab - start));
    start = tab + 1;
  }
  ApiToken t;
  t.id = std::string(id);
  t.tenant = std::string(f[0]);
  if (!model::ValidateTenantId(t.tenant).ok()) return bad("bad tenant id");
  absl::StatusOr<uint8_t> scopes = ParseScopes(f[1]);
  if (!scopes.ok()) return bad("bad scopes");
  t.scopes = *scopes;
  if (!ParseInt64(f[2], &t.created_ms)) return bad("bad creation time");
  if (f[3].size() != 64 || !IsLowerHex(f[3])) return bad("bad secret hash");
  t.secret_sha256 = std::string(f[3]);
  t.description = std::string(value.substr(start));
  return t;
}

std::optional<PresentedToken> ParseToken(std::string_view token) {
  if (token.size() != kTokenPrefix.size() + kIdHexDigits + kSecretHexDigits ||
      !token.starts_with(kTokenPrefix)) {
    return std::nullopt;
  }
  token.remove_prefix(kTokenPrefix.size());
  if (!IsLowerHex(token)) return std::nullopt;
  return PresentedToken{token.substr(0, kIdHexDigits), token.substr(kIdHexDigits)};
}

absl::StatusOr<std::string> TokenFromAuthorization(std::string_view authorization) {
  authorization = StripWhitespace(authorization);
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "no credentials: send an API token as `Authorization: Bearer <token>` (or as the Basic "
        "auth password)");
  }
  const size_t space = authorization.find(' ');
  const std::string_view scheme = authorization.substr(0, space);
  const std::string_view rest = space == std::string_view::npos
                                    ? std::string_view()
                                    : StripWhitespace(authorization.substr(space + 1));
  if (EqualsIgnoreCase(scheme, "Bearer")) return std::string(rest);
  if (EqualsIgnoreCase(scheme, "Basic")) {
    std::string decoded;
    if (!absl::Base64Unescape(ToAbsl(rest), &decoded)) {
      return absl::UnauthenticatedError("malformed Basic credentials: not base64");
    }
    // user:password; the user is not needed (the token names its tenant) and may be anything.
    const size_t colon = decoded.find(':');
    if (colon == std::string::npos) {
      return absl::UnauthenticatedError("malformed Basic credentials: no ':'");
    }
    return decoded.substr(colon + 1);
  }
  return absl::UnauthenticatedError(
      StrCat("unsupported authorization scheme \"", scheme, "\": use Bearer or Basic"));
}

}  // namespace embers::server
