#include "objstore/filesystem_bucket.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "objstore/local_file.h"

namespace embers::objstore {

namespace {

// Owns a file descriptor and closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { Reset(-1); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Retries a system call that a signal interrupted (possible on NFS and FUSE mounts).
template <typename F>
auto RetryEintr(F call) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

absl::StatusCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    case EEXIST:
    case EISDIR:
    case ELOOP:
    case ENOTEMPTY:
      return absl::StatusCode::kFailedPrecondition;
    // Transient conditions, mostly from network filesystems: worth a retry.
    case EAGAIN:
    case EBUSY:
    case EINTR:
    case ETIMEDOUT:
    case ESTALE:
    case ENOLCK:
      return absl::StatusCode::kUnavailable;
    default:  // EIO and anything unexpected
      return absl::StatusCode::kInternal;
  }
}

// "<op> \"<key>\" in bucket <bucket>: No space left on device (ENOSPC)".
absl::Status ErrnoStatus(int err, std::string_view op, std::string_view key,
                         std::string_view bucket) {
  const char* errno_name = strerrorname_np(err);  // thread-safe, unlike strerror()
  return absl::Status(
      CodeForErrno(err),
      StrCat(op, " \"", key, "\" in bucket ", bucket, ": ", std::generic_category().message(err),
             " (", errno_name != nullptr ? errno_name : StrCat("errno ", err), ")"));
}

// A validated key split into NUL-terminated components, for the *at() system calls.
class KeyPath {
 public:
  explicit KeyPath(std::string_view key) : buf_(key) {
    if (buf_.empty()) return;
    offsets_.push_back(0);
    for (size_t i = 0; i < buf_.size(); ++i) {
      if (buf_[i] == '/') {
        buf_[i] = '\0';
        offsets_.push_back(i + 1);
      }
    }
  }

  size_t size() const { return offsets_.size(); }
  const char* operator[](size_t i) const { return buf_.c_str() + offsets_[i]; }
  const char* leaf() const { return (*this)[size() - 1]; }

 private:
  std::string buf_;
  std::vector<size_t> offsets_;
};

// The directories opened on the way to a key's leaf.
struct DirChain {
  std::vector<UniqueFd> fds;    // fds[i] is the directory named by components [0, i]
  std::vector<size_t> created;  // indexes i of directories this walk created
  size_t failed = 0;            // on error, the index of the component that failed

  // The directory holding component i.
  int ParentOf(size_t i, int root_fd) const { return i == 0 ? root_fd : fds[i - 1].get(); }
};

// Opens the first `count` components of `path` as directories below `root_fd`, one at a time and
// with O_NOFOLLOW, so neither ".." (rejected by ValidateKey anyway) nor a symlink can lead out of
// the root. With `create`, missing directories are made. Returns 0 or an errno (ENOTDIR when a
// component is a file or a symlink).
int OpenDirs(int root_fd, const KeyPath& path, size_t count, bool create, DirChain* chain) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  chain->fds.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const int parent = chain->ParentOf(i, root_fd);
    int fd = RetryEintr([&] { return ::openat(parent, path[i], kFlags); });
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(parent, path[i], 0755) == 0) {
        chain->created.push_back(i);
      } else if (errno != EEXIST) {  // EEXIST: a concurrent Put made it first
        chain->failed = i;
        return errno;
      }
      fd = RetryEintr([&] { return ::openat(parent, path[i], kFlags); });
    }
    if (fd < 0) {
      chain->failed = i;
      return errno;
    }
    chain->fds.emplace_back(fd);
  }
  return 0;
}

// Writes all of `data`; returns 0 or an errno.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = RetryEintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) return errno;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Reads up to `length` bytes at `offset`; stops early only at end of file.
int PreadAll(int fd, uint64_t offset, uint64_t length, std::string* out) {
  out->resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n =
        RetryEintr([&] { return ::pread(fd, out->data() + done, length - done, offset + done); });
    if (n < 0) return errno;
    if (n == 0) break;  // the file is shorter than fstat said; only possible if edited in place
    done += static_cast<uint64_t>(n);
  }
  out->resize(done);
  return 0;
}

bool IsTempName(std::string_view name) {
  return name.substr(0, kReservedSegmentPrefix.size()) == kReservedSegmentPrefix;
}

// A directory entry's type without following symlinks: DT_DIR, DT_REG, or something else.
unsigned char EntryType(DIR* dir, const dirent* entry) {
  if (entry->d_type != DT_UNKNOWN) return entry->d_type;  // some filesystems leave it unknown
  struct stat st;
  if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
  if (S_ISDIR(st.st_mode)) return DT_DIR;
  if (S_ISREG(st.st_mode)) return DT_REG;
  return DT_UNKNOWN;
}

using DirPtr = std::unique_ptr<DIR, int (*)(DIR*)>;

// Turns an owned directory fd into a DIR stream (which then owns the fd).
DirPtr OpenDirStream(UniqueFd fd) {
  DIR* dir = ::fdopendir(fd.get());
  if (dir != nullptr) fd.release();
  return DirPtr(dir, &::closedir);
}

// Calls `callback` for each object below the directory `fd` in key order. `key` holds the key
// prefix of this directory ("" or "a/b/") and is restored on return; `filter` restricts the
// first level to names starting with it (the partial last segment of a List prefix).
absl::Status ListDir(UniqueFd fd, std::string& key, std::string_view filter,
                     Bucket::ListCallback callback, std::string_view bucket) {
  DirPtr dir = OpenDirStream(std::move(fd));
  if (dir == nullptr) return ErrnoStatus(errno, "list", key, bucket);

  // Read the whole directory first: it gives us sorted output, and the callback may then delete
  // entries without disturbing readdir. A directory sorts as "name/", so that everything under
  // it lands where its keys belong among sibling keys ("a-b" < "a/x" < "a0").
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return ErrnoStatus(errno, "list", key, bucket);
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || IsTempName(name)) continue;
    if (name.substr(0, filter.size()) != filter) continue;
    const unsigned char type = EntryType(dir.get(), entry);
    if (type == DT_DIR) {
      names.push_back(StrCat(name, "/"));
    } else if (type == DT_REG) {
      names.emplace_back(name);
    }  // symlinks, sockets, ... are not objects
  }
  std::sort(names.begin(), names.end());

  const size_t base = key.size();
  for (std::string& name : names) {
    key.resize(base);
    key.append(name);
    if (name.back() != '/') {
      if (key.size() > kMaxKeyLength) continue;  // cannot be a valid key, so not an object
      if (absl::Status s = callback(key); !s.ok()) return s;
      continue;
    }
    if (key.size() >= kMaxKeyLength) continue;  // every key below would be too long
    name.pop_back();  // the directory's real name, NUL-terminated for openat
    int child = RetryEintr([&] {
      return ::openat(::dirfd(dir.get()), name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    });
    if (child < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // removed or replaced meanwhile
      return ErrnoStatus(errno, "list", key, bucket);
    }
    if (absl::Status s = ListDir(UniqueFd(child), key, "", callback, bucket); !s.ok()) return s;
  }
  key.resize(base);
  return absl::OkStatus();
}

// Removes temporary files last modified before `cutoff` below the directory `fd`.
absl::Status SweepTempFiles(UniqueFd fd, time_t cutoff, int* removed, std::string_view bucket) {
  DirPtr dir = OpenDirStream(std::move(fd));
  if (dir == nullptr) return ErrnoStatus(errno, "sweep temp files", "", bucket);
  std::vector<std::string> subdirs;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return ErrnoStatus(errno, "sweep temp files", "", bucket);
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    const unsigned char type = EntryType(dir.get(), entry);
    if (type == DT_DIR) {
      subdirs.emplace_back(name);
    } else if (type == DT_REG && IsTempName(name)) {
      struct stat st;
      if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          st.st_mtime < cutoff && ::unlinkat(::dirfd(dir.get()), entry->d_name, 0) == 0) {
        ++*removed;
      }
    }
  }
  for (const std::string& name : subdirs) {
    int child = RetryEintr([&] {
      return ::openat(::dirfd(dir.get()), name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    });
    if (child < 0) continue;  // vanished or replaced: nothing to sweep there
    if (absl::Status s = SweepTempFiles(UniqueFd(child), cutoff, removed, bucket); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

uint64_t RandomNonce() {
  uint64_t nonce = 0;
  if (::getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce)) {
    // No entropy yet (early boot): pid and time still separate concurrent processes.
    nonce = static_cast<uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull ^
            static_cast<uint64_t>(::time(nullptr));
  }
  return nonce;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FilesystemBucket>> FilesystemBucket::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("filesystem bucket: empty directory path");
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(dir, ec);
  if (ec) {
    return absl::Status(CodeForErrno(ec.value()),
                        StrCat("filesystem bucket: bad directory \"", dir, "\": ", ec.message()));
  }
  root = root.lexically_normal();
  if (!root.has_filename() && root.has_parent_path() && root != root.root_path()) {
    root = root.parent_path();  // "/data/" → "/data", for tidy names and messages
  }
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return absl::Status(CodeForErrno(ec.value()),
                        StrCat("filesystem bucket: cannot create directory \"", root.string(),
                               "\": ", ec.message()));
  }
  int fd = RetryEintr([&] { return ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) {
    const int err = errno;
    return absl::Status(CodeForErrno(err),
                        StrCat("filesystem bucket: cannot open directory \"", root.string(),
                               "\": ", std::generic_category().message(err)));
  }
  return std::unique_ptr<FilesystemBucket>(new FilesystemBucket(fd, root.string()));
}

FilesystemBucket::FilesystemBucket(int root_fd, std::string root)
    : root_fd_(root_fd),
      root_(std::move(root)),
      name_(StrCat("filesystem:", root_)),
      temp_nonce_(RandomNonce()) {}

FilesystemBucket::~FilesystemBucket() { ::close(root_fd_); }

std::string FilesystemBucket::TempName() {
  return StrCat(kReservedSegmentPrefix, ::getpid(), "-", Hex(temp_nonce_), "-",
                temp_counter_.fetch_add(1, std::memory_order_relaxed));
}

absl::StatusOr<std::string> FilesystemBucket::Get(std::string_view key) {
  // A whole-object read is a range read of everything.
  return GetRange(key, 0, UINT64_MAX);
}

absl::StatusOr<std::string> FilesystemBucket::GetRange(std::string_view key, uint64_t offset,
                                                       uint64_t length) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  KeyPath path(key);
  DirChain chain;
  if (int err = OpenDirs(root_fd_, path, path.size() - 1, /*create=*/false, &chain); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return ObjectNotFoundError(name_, key);
    return ErrnoStatus(err, "get", key, name_);
  }
  const int parent = chain.ParentOf(path.size() - 1, root_fd_);
  // O_NONBLOCK keeps a stray FIFO from hanging us; it does not affect regular files.
  UniqueFd fd(RetryEintr([&] {
    return ::openat(parent, path.leaf(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  }));
  if (fd.get() < 0) {
    const int err = errno;
    // ELOOP: the leaf is a symlink, which we never follow; like a missing object.
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return ObjectNotFoundError(name_, key);
    return ErrnoStatus(err, "get", key, name_);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "get", key, name_);
  if (!S_ISREG(st.st_mode)) return ObjectNotFoundError(name_, key);  // e.g. a directory

  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size) return RangeStartPastEndError(name_, key, offset, size);
  std::string data;
  if (int err = PreadAll(fd.get(), offset, std::min(length, size - offset), &data); err != 0) {
    return ErrnoStatus(err, "get", key, name_);
  }
  return data;
}

absl::Status FilesystemBucket::Put(std::string_view key, std::string_view data) {
  return PutWith(key, [&](int fd) -> absl::Status {
    if (int err = WriteAll(fd, data); err != 0) return ErrnoStatus(err, "put (write)", key, name_);
    return absl::OkStatus();
  });
}

absl::Status FilesystemBucket::PutFile(std::string_view key, const std::string& path) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  absl::StatusOr<LocalFileReader> source = LocalFileReader::Open(path);
  if (!source.ok()) return source.status();
  return PutWith(key, [&](int fd) -> absl::Status {
    // The kernel copies (or shares extents) without the bytes passing through us; a 1 MiB buffer
    // is the fallback where copy_file_range is not supported between the two filesystems.
    uint64_t offset = 0;
    while (offset < source->size()) {
      loff_t in = static_cast<loff_t>(offset);
      ssize_t n = RetryEintr([&] {
        return ::copy_file_range(source->fd(), &in, fd, nullptr, source->size() - offset, 0);
      });
      if (n > 0) {
        offset += static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) break;  // the file shrank since it was opened
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        return ErrnoStatus(errno, "put (copy file)", key, name_);
      }
      std::string buffer(std::min<uint64_t>(source->size() - offset, 1 << 20), '\0');
      while (offset < source->size()) {
        absl::StatusOr<size_t> got = source->ReadAt(offset, buffer.data(), buffer.size());
        if (!got.ok()) return got.status();
        if (*got == 0) break;
        if (int err = WriteAll(fd, std::string_view(buffer.data(), *got)); err != 0) {
          return ErrnoStatus(err, "put (write)", key, name_);
        }
        offset += *got;
      }
      break;
    }
    return absl::OkStatus();
  });
}

absl::Status FilesystemBucket::PutWith(std::string_view key,
                                       absl::FunctionRef<absl::Status(int fd)> write) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  KeyPath path(key);
  const size_t leaf = path.size() - 1;

  // A concurrent Delete may prune an empty directory between our walk and the creation of the
  // temporary file in it (after which the directory is non-empty and safe). That race shows up
  // as ENOENT; walking again recreates the directory.
  constexpr int kAttempts = 16;
  for (int attempt = 1;; ++attempt) {
    const bool may_retry = attempt < kAttempts;
    DirChain chain;
    if (int err = OpenDirs(root_fd_, path, leaf, /*create=*/true, &chain); err != 0) {
      if (err == ENOENT && may_retry) continue;
      if (err == ENOTDIR) {
        struct stat st;
        const bool is_link = ::fstatat(chain.ParentOf(chain.failed, root_fd_), path[chain.failed],
                                       &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                             S_ISLNK(st.st_mode);
        return absl::FailedPreconditionError(StrCat(
            "put \"", key, "\" in bucket ", name_, ": path component \"", path[chain.failed],
            is_link ? "\" is a symbolic link, which the filesystem bucket never follows"
                    : "\" is an existing object; a filesystem bucket cannot hold both \"a\" and "
                      "\"a/b\""));
      }
      return ErrnoStatus(err, "put", key, name_);
    }
    const int dir = chain.ParentOf(leaf, root_fd_);

    std::string temp;
    int raw_fd = -1;
    for (int i = 0; i < 100 && raw_fd < 0; ++i) {  // EEXIST: a leftover holds the name
      temp = TempName();
      raw_fd = RetryEintr([&] {
        return ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      });
      if (raw_fd < 0 && errno != EEXIST) break;
    }
    if (raw_fd < 0) {
      const int err = errno;
      if (err == ENOENT && may_retry) continue;
      return ErrnoStatus(err, "put (create temporary file)", key, name_);
    }
    UniqueFd fd(raw_fd);

    // Write and fsync the data before it becomes visible under its name, so a crash can never
    // leave a named but partial object. A close() error can also report a failed write-back.
    if (absl::Status written = write(fd.get()); !written.ok()) {
      ::unlinkat(dir, temp.c_str(), 0);
      return written;
    }
    std::string_view failed_step;
    int err = 0;
    if (RetryEintr([&] { return ::fsync(fd.get()); }) != 0) {
      failed_step = "put (fsync)";
      err = errno;
    } else if (::close(fd.release()) != 0) {
      failed_step = "put (close)";
      err = errno;
    } else if (::renameat(dir, temp.c_str(), dir, path.leaf()) != 0) {
      failed_step = "put (rename)";
      err = errno;
    }
    if (err != 0) {
      ::unlinkat(dir, temp.c_str(), 0);
      if (err == EISDIR) {
        return absl::FailedPreconditionError(
            StrCat("put \"", key, "\" in bucket ", name_,
                   ": the key is a directory of other keys; a filesystem bucket cannot "
                   "hold both \"a\" and \"a/b\""));
      }
      return ErrnoStatus(err, failed_step, key, name_);
    }

    // Make the new name durable, and the entry of every directory this Put created.
    if (RetryEintr([&] { return ::fsync(dir); }) != 0) {
      return ErrnoStatus(errno, "put (fsync directory)", key, name_);
    }
    for (size_t i : chain.created) {
      if (RetryEintr([&] { return ::fsync(chain.ParentOf(i, root_fd_)); }) != 0) {
        return ErrnoStatus(errno, "put (fsync directory)", key, name_);
      }
    }
    return absl::OkStatus();
  }
}

absl::Status FilesystemBucket::Delete(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  KeyPath path(key);
  const size_t leaf = path.size() - 1;
  DirChain chain;
  if (int err = OpenDirs(root_fd_, path, leaf, /*create=*/false, &chain); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return absl::OkStatus();  // nothing to delete
    return ErrnoStatus(err, "delete", key, name_);
  }
  if (::unlinkat(chain.ParentOf(leaf, root_fd_), path.leaf(), 0) != 0) {
    const int err = errno;
    // EISDIR: the key names a directory, which is not an object, so there is nothing to delete.
    if (err == ENOENT || err == ENOTDIR || err == EISDIR) return absl::OkStatus();
    return ErrnoStatus(err, "delete", key, name_);
  }
  // Prune the directories this leaves empty, deepest first, stopping at the first one that is
  // not empty (or is being filled by a concurrent Put, which then retries: see Put). Best effort.
  for (size_t i = leaf; i-- > 0;) {
    if (::unlinkat(chain.ParentOf(i, root_fd_), path[i], AT_REMOVEDIR) != 0) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> FilesystemBucket::Exists(std::string_view key) {
  absl::StatusOr<uint64_t> size = Size(key);
  if (size.ok()) return true;
  if (absl::IsNotFound(size.status())) return false;
  return size.status();
}

absl::StatusOr<uint64_t> FilesystemBucket::Size(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  KeyPath path(key);
  const size_t leaf = path.size() - 1;
  DirChain chain;
  if (int err = OpenDirs(root_fd_, path, leaf, /*create=*/false, &chain); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return ObjectNotFoundError(name_, key);
    return ErrnoStatus(err, "size", key, name_);
  }
  struct stat st;
  if (::fstatat(chain.ParentOf(leaf, root_fd_), path.leaf(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return ObjectNotFoundError(name_, key);
    return ErrnoStatus(err, "size", key, name_);
  }
  if (!S_ISREG(st.st_mode)) return ObjectNotFoundError(name_, key);  // directory, symlink, ...
  return static_cast<uint64_t>(st.st_size);
}

absl::Status FilesystemBucket::List(std::string_view prefix, ListCallback callback) {
  if (absl::Status s = ValidateListPrefix(prefix); !s.ok()) return s;
  // "a/b/se" → walk to directory "a/b", then list its entries starting with "se".
  const size_t slash = prefix.rfind('/');
  const std::string_view dir_part =
      slash == std::string_view::npos ? std::string_view() : prefix.substr(0, slash);
  const std::string_view filter =
      slash == std::string_view::npos ? prefix : prefix.substr(slash + 1);

  KeyPath path(dir_part);
  DirChain chain;
  if (int err = OpenDirs(root_fd_, path, path.size(), /*create=*/false, &chain); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return absl::OkStatus();  // no such directory: no keys
    return ErrnoStatus(err, "list", prefix, name_);
  }
  // The DIR stream needs its own open file description: a dup() of root_fd_ would share the
  // directory offset with concurrent List calls.
  UniqueFd start = chain.fds.empty() ? UniqueFd(RetryEintr([&] {
    return ::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }))
                                     : std::move(chain.fds.back());
  if (start.get() < 0) return ErrnoStatus(errno, "list", prefix, name_);
  std::string key(prefix.substr(0, prefix.size() - filter.size()));
  return ListDir(std::move(start), key, filter, callback, name_);
}

absl::StatusOr<int> FilesystemBucket::RemoveStaleTempFiles(std::chrono::seconds min_age) {
  UniqueFd start(
      RetryEintr([&] { return ::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
  if (start.get() < 0) return ErrnoStatus(errno, "sweep temp files", "", name_);
  int removed = 0;
  const time_t cutoff = ::time(nullptr) - static_cast<time_t>(min_age.count());
  if (absl::Status s = SweepTempFiles(std::move(start), cutoff, &removed, name_); !s.ok()) {
    return s;
  }
  return removed;
}

}  // namespace embers::objstore
