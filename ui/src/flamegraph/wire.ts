// Reads a querier.v1 SelectMergeStacktracesResponse in protobuf binary form (Connect's proto
// codec). The flame graph of a large profile is 100k+ nodes: as JSON every int64 is a quoted
// string (megabytes to parse, then 400k string-to-number conversions); as protobuf the levels
// are packed varints read straight into typed arrays. Used by api.flameGraph; the tests check
// it against a hand-encoded message.
//
//   SelectMergeStacktracesResponse { FlameGraph flamegraph = 1; ... }
//   FlameGraph { repeated string names = 1; repeated Level levels = 2; int64 total = 3; int64 max_self = 4; }
//   Level { repeated int64 values = 1; }  (packed)

import { ProtoWriter } from '../proto_writer.ts';

export interface BinaryFlameGraph { names: string[]; levels: Float64Array[]; total: number }

class Reader {
  pos = 0;
  constructor(public buf: Uint8Array, public end = buf.length) {}
  varint(): number {
    // int64 values of a flame graph are non-negative and below 2^53: plain arithmetic is exact.
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) { const n = this.varint(); this.pos += n; }
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new Error('protobuf: truncated field');
  }
  sub(): Reader {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error('protobuf: truncated message');
    const r = new Reader(this.buf, this.pos + n);
    r.pos = this.pos;
    this.pos += n;
    return r;
  }
}

function readLevel(r: Reader): Float64Array {
  // Levels are written packed: size the array by counting the varints' last bytes first.
  const chunks: Float64Array[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === (1 << 3 | 2)) {
      const p = r.sub();
      let count = 0;
      for (let k = p.pos; k < p.end; k++) if (p.buf[k] < 0x80) count++;
      const values = new Float64Array(count);
      for (let k = 0; k < count; k++) values[k] = p.varint();
      chunks.push(values);
    } else if (tag === (1 << 3 | 0)) {
      chunks.push(Float64Array.of(r.varint())); // unpacked: legal, though no encoder of ours writes it
    } else {
      r.skip(tag & 7);
    }
  }
  if (chunks.length === 1) return chunks[0];
  const all = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  return all;
}

function readFlameGraph(r: Reader): BinaryFlameGraph {
  const decoder = new TextDecoder();
  const fg: BinaryFlameGraph = { names: [], levels: [], total: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) {
      const s = r.sub();
      fg.names.push(decoder.decode(r.buf.subarray(s.pos, s.end)));
    } else if (field === 2 && (tag & 7) === 2) {
      fg.levels.push(readLevel(r.sub()));
    } else if (field === 3 && (tag & 7) === 0) {
      fg.total = r.varint();
    } else {
      r.skip(tag & 7);
    }
  }
  return fg;
}

export function decodeSelectMergeStacktracesResponse(buf: Uint8Array): BinaryFlameGraph {
  const r = new Reader(buf);
  let fg: BinaryFlameGraph = { names: [], levels: [], total: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === (1 << 3 | 2)) fg = readFlameGraph(r.sub());
    else r.skip(tag & 7);
  }
  return fg;
}

/** querier.v1.SelectMergeStacktracesRequest: profile_typeID 1, label_selector 2, start 3, end 4, max_nodes 5. */
export function encodeSelectMergeStacktraces(profileTypeID: string, labelSelector: string, start: number,
  end: number, maxNodes: number): Uint8Array<ArrayBuffer> {
  return new ProtoWriter().string(1, profileTypeID).string(2, labelSelector).int64(3, start).int64(4, end)
    .int64(5, maxNodes).bytes();
}
