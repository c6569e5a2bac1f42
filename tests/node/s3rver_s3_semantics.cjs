// s3rver (npm, pinned in package.json) with the two S3 guarantees its filesystem store lacks, for
// the tests that check Embers' S3 bucket against a real S3 server (src/objstore/s3/s3rver_process.cc
// starts it; the arguments are s3rver's own).
//
// s3rver 3.7.1 deviates from S3 in its storage layer, not in the protocol:
// 1. A PUT writes the object file in place (truncate, then write), and its metadata afterwards, so
//    a concurrent GET can read a torn mix of two versions. S3 replaces objects atomically. Here an
//    object is written to a temporary file and renamed over the old one, and the rename plus the
//    metadata write and a GET's metadata read plus open run under a per-key lock (an open file
//    keeps the version it opened).
// 2. Listings walk the directory tree and so come in per-directory order ("a/x" before "a-b",
//    though '-' < '/'), and a continuation token, which resumes after the last key returned,
//    then skips keys. S3 lists in UTF-8 byte order. Here a page is the sorted keys after the token.
// Nothing else is changed: requests, routing, XML, authentication and multipart are s3rver's.
'use strict';

const fs = require('fs-extra');
const path = require('path');
const { Readable, Transform, pipeline } = require('stream');
const crypto = require('crypto');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

const locks = new Map();

// Runs fn after every earlier holder of `id` has finished.
async function withLock(id, fn) {
  const previous = locks.get(id) || Promise.resolve();
  let release;
  const mine = new Promise((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  locks.set(id, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(id) === tail) locks.delete(id);
  }
}

const lockId = (bucket, key) => `${bucket}\0${key}`;
let temporaries = 0;

const proto = FilesystemStore.prototype;
const getObject = proto.getObject;
const deleteObject = proto.deleteObject;
const listObjects = proto.listObjects;

proto.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.mkdirp(path.dirname(objectPath));
  // Not ending in the object suffix, so listings never show it.
  const temporary = `${objectPath}.${process.pid}-${++temporaries}.tmp`;
  const md5 = crypto.createHash('md5');
  let size = 0;
  const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  await new Promise((resolve, reject) => {
    pipeline(
      content,
      new Transform({
        transform(chunk, encoding, callback) {
          md5.update(chunk, encoding);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      fs.createWriteStream(temporary),
      (err) => (err ? reject(err) : resolve()),
    );
  });
  const digest = md5.digest('hex');
  await withLock(lockId(object.bucket, object.key), async () => {
    await fs.rename(temporary, objectPath);
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  });
  return { size, md5: digest };
};

proto.getObject = function (bucket, key, options) {
  return withLock(lockId(bucket, key), () => getObject.call(this, bucket, key, options));
};

proto.deleteObject = function (bucket, key) {
  return withLock(lockId(bucket, key), () => deleteObject.call(this, bucket, key));
};

proto.listObjects = async function (bucket, options) {
  if (options.delimiter) return listObjects.call(this, bucket, options);
  const all = await listObjects.call(this, bucket, { ...options, startAfter: '', maxKeys: Infinity });
  const after = Buffer.from(options.startAfter || '');
  const objects = all.objects
    .filter((o) => Buffer.compare(Buffer.from(o.key), after) > 0)
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  const maxKeys = options.maxKeys === undefined ? Infinity : options.maxKeys;
  return {
    objects: objects.slice(0, maxKeys),
    commonPrefixes: all.commonPrefixes,
    isTruncated: objects.length > maxKeys,
  };
};

require('s3rver/bin/s3rver.js');
