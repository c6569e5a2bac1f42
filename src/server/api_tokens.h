// API tokens: what a token is, how it is stored, and which scope each public route needs.
//
// With -auth.enabled every public request carries a token (`Authorization: Bearer <token>`, or
// Basic with the token as the password, as Pyroscope's SDKs and Grafana send credentials); the
// token decides the tenant. A token is "emb_" + 16 hex digits of id + 32 hex digits of secret
// (128 random bits). The metastore keeps, per id, the tenant, the scopes and the SHA-256 of the
// secret, never the secret itself: its records live in the reserved settings table
// metastore::kApiTokensTenant, replicated by Raft like every tenant setting. TokenAuthenticator
// (token_authenticator.h) holds a copy of the records and checks requests against it;
// auth_routes.h creates, lists and revokes tokens.
#ifndef EMBERS_SERVER_API_TOKENS_H_
#define EMBERS_SERVER_API_TOKENS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::server {

// Bit set of what a token may do.
enum TokenScope : uint8_t {
  kScopeRead = 1,   // queries, label and series listings, settings and ad hoc reads
  kScopeWrite = 2,  // pushes (push.v1, /ingest, OTLP), settings writes, ad hoc uploads
};

// "read", "write" → bits; InvalidArgument for anything else or an empty list.
absl::StatusOr<uint8_t> ParseScopes(std::string_view comma_separated);
std::string FormatScopes(uint8_t scopes);  // "read,write"

// The scope a public method or route needs, from its path ("/push.v1.PusherService/Push",
// "/ingest", "/querier.v1.QuerierService/SelectMergeStacktraces", …).
TokenScope RequiredScope(std::string_view path);

struct ApiToken {
  std::string id;  // 16 lower-case hex digits
  std::string tenant;
  uint8_t scopes = 0;
  int64_t created_ms = 0;
  std::string secret_sha256;  // 64 lower-case hex digits
  std::string description;    // free text, at most 256 bytes
};

// A new token for `tenant`: the record to store and the token to hand out (once).
struct IssuedToken {
  ApiToken record;
  std::string token;
};
IssuedToken IssueToken(std::string tenant, uint8_t scopes, std::string description, int64_t now_ms);

// The stored form (the settings value under the token's id) and back; DataLoss when malformed.
std::string EncodeTokenRecord(const ApiToken& token);
absl::StatusOr<ApiToken> DecodeTokenRecord(std::string_view id, std::string_view value);

// The (id, secret) of a token string; nullopt when it is not one.
struct PresentedToken {
  std::string_view id;
  std::string_view secret;
};
std::optional<PresentedToken> ParseToken(std::string_view token);
// The token of an Authorization header value (Bearer, or Basic whose password is the token);
// Unauthenticated naming what is wrong.
absl::StatusOr<std::string> TokenFromAuthorization(std::string_view authorization);

}  // namespace embers::server

#endif  // EMBERS_SERVER_API_TOKENS_H_
