#include "objstore/prefixed_bucket.h"

#include <utility>
#include <vector>

#include "base/strings.h"

namespace embers::objstore {

absl::StatusOr<std::unique_ptr<PrefixedBucket>> PrefixedBucket::Create(
    std::unique_ptr<Bucket> inner, std::string_view prefix) {
  if (inner == nullptr) return absl::InvalidArgumentError("PrefixedBucket: no inner bucket");
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (absl::Status s = ValidateKey(prefix); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("bucket prefix: ", s.message()));
  }
  return std::unique_ptr<PrefixedBucket>(new PrefixedBucket(std::move(inner), std::string(prefix)));
}

PrefixedBucket::PrefixedBucket(std::unique_ptr<Bucket> inner, std::string prefix)
    : inner_(std::move(inner)),
      prefix_slash_(StrCat(prefix, "/")),
      name_(StrCat(inner_->Name(), "/", prefix)) {}

absl::StatusOr<std::string> PrefixedBucket::Full(std::string_view key) const {
  // Validate the caller's key on its own: "../x" would otherwise become the valid-looking
  // "<prefix>/../x" only to be rejected later with a confusing message, and an empty key would
  // silently name the prefix itself.
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  return StrCat(prefix_slash_, key);
}

template <typename T>
absl::StatusOr<T> PrefixedBucket::Renamed(absl::StatusOr<T> result, std::string_view key) const {
  if (absl::IsNotFound(result.status())) return ObjectNotFoundError(name_, key);
  return result;
}

absl::StatusOr<std::string> PrefixedBucket::Get(std::string_view key) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return Renamed(inner_->Get(*full), key);
}

absl::StatusOr<std::string> PrefixedBucket::GetRange(std::string_view key, uint64_t offset,
                                                     uint64_t length) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return Renamed(inner_->GetRange(*full, offset, length), key);
}

absl::Status PrefixedBucket::Put(std::string_view key, std::string_view data) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return inner_->Put(*full, data);
}

absl::Status PrefixedBucket::PutFile(std::string_view key, const std::string& path) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return inner_->PutFile(*full, path);
}

absl::Status PrefixedBucket::Delete(std::string_view key) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return inner_->Delete(*full);
}

absl::Status PrefixedBucket::DeleteMany(std::span<const std::string> keys) {
  std::vector<std::string> full_keys;
  full_keys.reserve(keys.size());
  for (const std::string& key : keys) {
    absl::StatusOr<std::string> full = Full(key);
    if (!full.ok()) return full.status();
    full_keys.push_back(*std::move(full));
  }
  return inner_->DeleteMany(full_keys);
}

absl::StatusOr<bool> PrefixedBucket::Exists(std::string_view key) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return inner_->Exists(*full);
}

absl::StatusOr<uint64_t> PrefixedBucket::Size(std::string_view key) {
  absl::StatusOr<std::string> full = Full(key);
  if (!full.ok()) return full.status();
  return Renamed(inner_->Size(*full), key);
}

absl::Status PrefixedBucket::List(std::string_view prefix, ListCallback callback) {
  if (absl::Status s = ValidateListPrefix(prefix); !s.ok()) return s;
  // The inner List yields only keys starting with prefix_slash_, so stripping is safe.
  return inner_->List(StrCat(prefix_slash_, prefix), [&](std::string_view key) {
    return callback(key.substr(prefix_slash_.size()));
  });
}

}  // namespace embers::objstore
