#include "objstore/s3/sigv4.h"

#include <algorithm>

#include "base/sha256.h"
#include "base/strings.h"

namespace embers::objstore::s3 {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Header values are signed trimmed, with every run of spaces inside folded to one.
std::string FoldSpaces(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : StripWhitespace(value)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Sorted lower-case names with their values (repeated names joined by ','), and the
// ';'-joined names.
std::pair<std::vector<std::pair<std::string, std::string>>, std::string> CanonicalHeaders(
    const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(AsciiLower(name), FoldSpaces(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& h : headers) {
    if (!merged.empty() && merged.back().first == h.first) {
      merged.back().second += ',';
      merged.back().second += h.second;
    } else {
      merged.push_back(std::move(h));
    }
  }
  std::string names;
  for (const auto& h : merged) {
    if (!names.empty()) names += ';';
    names += h.first;
  }
  return {std::move(merged), std::move(names)};
}

std::string DateStamp(absl::Time time) {
  return absl::FormatTime("%Y%m%d", time, absl::UTCTimeZone());
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back("0123456789ABCDEF"[c >> 4]);
      out.push_back("0123456789ABCDEF"[c & 15]);
    }
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(request.query.size());
  for (const auto& [name, value] : request.query) {
    query.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [name, value] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += name;
    canonical_query += '=';
    canonical_query += value;
  }
  auto [headers, names] = CanonicalHeaders(request);
  std::string out =
      StrCat(request.method, "\n", request.path.empty() ? "/" : UriEncode(request.path, true), "\n",
             canonical_query, "\n");
  for (const auto& [name, value] : headers) out += StrCat(name, ":", value, "\n");
  out += StrCat("\n", names, "\n", request.payload_hash);
  return out;
}

std::string AmzDate(absl::Time time) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", time, absl::UTCTimeZone());
}

std::string SigV4Authorization(const SigV4Request& request, const SigV4Credentials& credentials,
                               std::string_view region, std::string_view service, absl::Time time) {
  const std::string date = DateStamp(time);
  const std::string scope = StrCat(date, "/", region, "/", service, "/aws4_request");
  const std::string string_to_sign = StrCat("AWS4-HMAC-SHA256\n", AmzDate(time), "\n", scope, "\n",
                                            Sha256Hex(CanonicalRequest(request)));
  const Sha256Digest k_date = HmacSha256(StrCat("AWS4", credentials.secret_access_key), date);
  const Sha256Digest k_region = HmacSha256(BytesOf(k_date), region);
  const Sha256Digest k_service = HmacSha256(BytesOf(k_region), service);
  const Sha256Digest k_signing = HmacSha256(BytesOf(k_service), "aws4_request");
  const Sha256Digest signature = HmacSha256(BytesOf(k_signing), string_to_sign);
  return StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key_id, "/", scope,
                ", SignedHeaders=", CanonicalHeaders(request).second,
                ", Signature=", LowerHex(signature));
}

}  // namespace embers::objstore::s3
