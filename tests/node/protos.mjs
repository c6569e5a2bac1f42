// Loads the project's own .proto files (src/proto) at test time, with no generated code committed:
//  - querierServiceDescriptor(): runs Debian's protoc to produce a FileDescriptorSet and returns the
//    @bufbuild/protobuf v2 GenService for querier.v1.QuerierService (for @connectrpc/connect clients);
//  - loadGrpcPackage(): @grpc/proto-loader's dynamic definition (for @grpc/grpc-js clients).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { PROTO_ROOT } from './harness.mjs';

export const QUERIER_PROTO = 'querier/v1/querier.proto';

function assertProto(relPath) {
  const abs = path.join(PROTO_ROOT, relPath);
  if (!fs.existsSync(abs)) throw new Error(`proto file not found: ${abs} (is EMBERS_SRC right?)`);
  return abs;
}

/** FileDescriptorSet bytes for relPath and everything it imports, compiled by protoc. */
export function compileDescriptorSet(relPath) {
  assertProto(relPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-e2e-protoc-'));
  try {
    const out = path.join(dir, 'set.pb');
    try {
      execFileSync('protoc', [`--descriptor_set_out=${out}`, '--include_imports', '-I', PROTO_ROOT, relPath],
        { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    } catch (err) {
      if (err.code === 'ENOENT') throw new Error('protoc not found: install protobuf-compiler (scripts/install-deps.sh)');
      throw new Error(`protoc failed on ${relPath}:\n${err.stderr?.toString() ?? err.message}`);
    }
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const PUSH_PROTO = 'push/v1/push.proto';

/** GenService of push.v1.PusherService, for createClient(). */
export function pusherServiceDescriptor() {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet(PUSH_PROTO)));
  const service = registry.getService('push.v1.PusherService');
  if (!service) throw new Error(`${PUSH_PROTO} does not define service push.v1.PusherService`);
  return service;
}

/** GenService of querier.v1.QuerierService, for createClient(). */
export function querierServiceDescriptor() {
  const set = fromBinary(FileDescriptorSetSchema, compileDescriptorSet(QUERIER_PROTO));
  const registry = createFileRegistry(set);
  const service = registry.getService('querier.v1.QuerierService');
  if (!service) throw new Error(`${QUERIER_PROTO} does not define service querier.v1.QuerierService`);
  return service;
}

/** The grpc-js package object for relPath (fields keep their proto names). */
export function loadGrpcPackage(relPath) {
  const def = protoLoader.loadSync(assertProto(relPath), {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def);
}
