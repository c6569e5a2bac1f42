// TempFileSweeper: removes the temporary files a crash left in a filesystem bucket.
//
// FilesystemBucket::Put writes a temporary file and renames it over the target; a process killed
// in between leaves the temporary file behind, and nothing else would ever remove it. The storage
// module of every process with a filesystem bucket runs one sweeper: a pass shortly after start
// and then every `interval`, each removing temporary files older than `min_age` (well beyond the
// longest upload, since other processes may share the directory).
#ifndef EMBERS_OBJSTORE_TEMP_FILE_SWEEPER_H_
#define EMBERS_OBJSTORE_TEMP_FILE_SWEEPER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "objstore/filesystem_bucket.h"

namespace embers::objstore {

class TempFileSweeper {
 public:
  // `bucket` must outlive the sweeper.
  TempFileSweeper(FilesystemBucket* bucket, std::chrono::seconds min_age,
                  std::chrono::seconds interval, std::chrono::seconds first_pass_after);
  ~TempFileSweeper();  // stops and joins
  TempFileSweeper(const TempFileSweeper&) = delete;
  TempFileSweeper& operator=(const TempFileSweeper&) = delete;

 private:
  void Loop(std::chrono::seconds first_pass_after);

  FilesystemBucket* bucket_;
  const std::chrono::seconds min_age_;
  const std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_TEMP_FILE_SWEEPER_H_
