// Downloads: the merged profile as pprof (SelectMergeProfile over Connect with the binary
// protobuf codec, so the bytes are a pprof file `go tool pprof` reads) and the flame graph as
// the JSON the API answered. Used by the explore view's export buttons.
import { callProto } from './api.ts';
import { ProtoWriter } from './proto_writer.ts';

/** querier.v1.SelectMergeProfileRequest: profile_typeID = 1, label_selector = 2, start = 3, end = 4. */
export function encodeSelectMergeProfile(profileTypeID: string, labelSelector: string, start: number, end: number): Uint8Array<ArrayBuffer> {
  return new ProtoWriter().string(1, profileTypeID).string(2, labelSelector).int64(3, start).int64(4, end).bytes();
}

function save(blob: Blob, fileName: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export async function downloadPprof(profileTypeID: string, labelSelector: string,
  start: number, end: number, fileName: string): Promise<void> {
  const bytes = await callProto('querier.v1.QuerierService', 'SelectMergeProfile',
    encodeSelectMergeProfile(profileTypeID, labelSelector, start, end));
  save(new Blob([bytes], { type: 'application/octet-stream' }), fileName);
}

export function downloadJson(value: unknown, fileName: string): void {
  save(new Blob([JSON.stringify(value)], { type: 'application/json' }), fileName);
}
