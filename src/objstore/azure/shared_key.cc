#include "objstore/azure/shared_key.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace embers::objstore::azure {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// The sort keys of .NET's en-US culture for ASCII, three levels (base character, case, then the
// characters ignored at first), as the storage service sorts x-ms-* header names. The same tables
// as the Azure SDKs' SharedKeyComparator. 0 means "ignored at this level".
using SortTable = std::array<uint32_t, 128>;

constexpr SortTable kLevel0 = [] {
  SortTable t{};
  t['!'] = 0x71c;
  t['#'] = 0x71f;
  t['$'] = 0x721;
  t['%'] = 0x723;
  t['&'] = 0x725;
  t['*'] = 0x72d;
  t['+'] = 0x803;
  t['.'] = 0x733;
  constexpr uint32_t kDigits[] = {0xd03, 0xd1a, 0xd1c, 0xd1e, 0xd20,
                                  0xd22, 0xd24, 0xd26, 0xd28, 0xd2a};
  for (int i = 0; i < 10; ++i) t['0' + i] = kDigits[i];
  constexpr uint32_t kLetters[] = {0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25, 0xe2c, 0xe32,
                                   0xe35, 0xe36, 0xe48, 0xe51, 0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a,
                                   0xe91, 0xe99, 0xe9f, 0xea2, 0xea4, 0xea6, 0xea7, 0xea9};
  for (int i = 0; i < 26; ++i) t['A' + i] = t['a' + i] = kLetters[i];
  t['^'] = 0x743;
  t['_'] = 0x744;
  t['`'] = 0x748;
  t['|'] = 0x74c;
  t['~'] = 0x750;
  return t;
}();

constexpr SortTable kLevel2 = [] {
  SortTable t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = 0x12;  // upper case after lower case
  return t;
}();

constexpr SortTable kLevel4 = [] {
  SortTable t{};
  t['\''] = 0x8012;
  t['-'] = 0x8212;
  return t;
}();

uint32_t Weight(const SortTable& table, std::string_view s, size_t i) {
  if (i >= s.size()) return 1;  // the end of the string
  const auto c = static_cast<unsigned char>(s[i]);
  return c < table.size() ? table[c] : 0;
}

// `s` without leading whitespace (the service signs header values so).
std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The value of the first header named `name` (case-insensitive), or "".
std::string_view HeaderValue(const SharedKeyRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

}  // namespace

bool SharedKeyHeaderNameLess(std::string_view a, std::string_view b) {
  // A transcription of the SDKs' comparator: compare level by level, skipping characters the
  // level ignores; at the last level the first position that differs decides.
  const SortTable* tables[] = {&kLevel0, &kLevel2, &kLevel4};
  size_t level = 0, i = 0, j = 0;
  while (level < 3) {
    if (level == 2 && i != j) return i > j;
    const uint32_t wa = Weight(*tables[level], a, i);
    const uint32_t wb = Weight(*tables[level], b, j);
    if (wa == 1 && wb == 1) {
      i = j = 0;
      ++level;
    } else if (wa == wb) {
      ++i;
      ++j;
    } else if (wa == 0) {
      ++i;
    } else if (wb == 0) {
      ++j;
    } else {
      return wa < wb;
    }
  }
  return false;
}

std::string AzureUriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string AzureDate(absl::Time time) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", time, absl::UTCTimeZone());
}

absl::StatusOr<std::string> DecodeAccountKey(std::string_view base64_key) {
  std::string decoded;
  if (base64_key.empty() || !absl::Base64Unescape(ToAbsl(base64_key), &decoded) ||
      decoded.empty()) {
    return absl::InvalidArgumentError(
        "the Azure storage account key is not base64 (copy it as the portal shows it)");
  }
  return decoded;
}

std::string SharedKeyStringToSign(const SharedKeyRequest& request, std::string_view account_name) {
  std::string out = request.method;
  out += '\n';
  for (std::string_view name :
       {"content-encoding", "content-language", "content-length", "content-md5", "content-type",
        "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"}) {
    std::string_view value = HeaderValue(request, name);
    // Since version 2015-02-21 a zero Content-Length is signed as "".
    if (name == "content-length" && value == "0") value = {};
    out += value;
    out += '\n';
  }
  // x-ms-* headers: lower-case names in the service's order, the first of repeated names.
  std::vector<std::pair<std::string, std::string_view>> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    if (lower.rfind("x-ms-", 0) == 0) headers.emplace_back(std::move(lower), TrimLeft(value));
  }
  std::stable_sort(headers.begin(), headers.end(), [](const auto& x, const auto& y) {
    return SharedKeyHeaderNameLess(x.first, y.first);
  });
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) continue;
    out += StrCat(headers[i].first, ":", headers[i].second, "\n");
  }
  // The canonicalized resource.
  out += StrCat("/", account_name, request.encoded_path.empty() ? "/" : request.encoded_path);
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : request.query) {
    if (!name.empty() && !value.empty()) query.emplace_back(AsciiLower(name), value);
  }
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    // A repeated parameter: its values sorted and joined by ','.
    if (i > 0 && query[i].first == query[i - 1].first) {
      out += StrCat(",", query[i].second);
    } else {
      out += StrCat("\n", query[i].first, ":", query[i].second);
    }
  }
  return out;
}

std::string SharedKeyAuthorization(const SharedKeyRequest& request, std::string_view account_name,
                                   std::string_view decoded_key) {
  const Sha256Digest mac = HmacSha256(decoded_key, SharedKeyStringToSign(request, account_name));
  return StrCat("SharedKey ", account_name, ":", absl::Base64Escape(ToAbsl(BytesOf(mac))));
}

}  // namespace embers::objstore::azure
