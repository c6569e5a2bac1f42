// Unit tests of the protobuf reading and writing (src/flamegraph/wire.ts, src/proto_writer.ts):
// a hand-encoded SelectMergeStacktracesResponse (packed and unpacked levels, a large int64, an
// unknown field) and the request encoding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFlamebearer } from '../src/flamegraph/tree.ts';
import { decodeSelectMergeStacktracesResponse, encodeSelectMergeStacktraces } from '../src/flamegraph/wire.ts';

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
  return out;
};
const len = (field: number, body: number[]): number[] => [(field << 3) | 2, ...varint(body.length), ...body];
const str = (field: number, s: string) => len(field, [...new TextEncoder().encode(s)]);
const packed = (field: number, values: number[]) => len(field, values.flatMap(varint));

describe('SelectMergeStacktracesResponse (protobuf)', () => {
  it('reads names, packed and unpacked levels, totals, and skips unknown fields', () => {
    const big = 2 ** 40 + 3;
    const flamegraph = [
      ...str(1, 'total'), ...str(1, 'main'), ...str(1, 'ünïcode'),
      ...len(2, packed(1, [0, big, 0, 0])),
      ...len(2, [...packed(1, [0, big - 3, 0, 1]), 8, ...varint(0), 8, ...varint(3), 8, ...varint(3), 8, ...varint(2)]),
      24, ...varint(big), // total
      32, ...varint(7), // max_self
      ...str(9, 'a field from the future'),
    ];
    const response = new Uint8Array([...len(1, flamegraph), ...str(3, 'dot text')]);
    const fg = decodeSelectMergeStacktracesResponse(response);
    assert.deepEqual(fg.names, ['total', 'main', 'ünïcode']);
    assert.deepEqual(fg.levels.map((l) => [...l]), [[0, big, 0, 0], [0, big - 3, 0, 1, 0, 3, 3, 2]]);
    assert.equal(fg.total, big);
    const t = decodeFlamebearer(fg.names, fg.levels);
    assert.deepEqual([...t.x], [0, 0, big - 3]);
  });
  it('refuses truncated input', () => {
    assert.throws(() => decodeSelectMergeStacktracesResponse(new Uint8Array([10, 5, 10])), /truncated/);
  });
  it('encodes the request fields', () => {
    const bytes = encodeSelectMergeStacktraces('t', '{}', 300, 2 ** 41, 5);
    assert.deepEqual([...bytes], [...str(1, 't'), ...str(2, '{}'), 24, ...varint(300), 32, ...varint(2 ** 41), 40, 5]);
  });
});
