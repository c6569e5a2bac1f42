// A minimal protobuf writer for the few requests the UI sends with Connect's binary codec
// (flame graphs and pprof downloads): strings and non-negative int64 fields, nothing else.
export class ProtoWriter {
  private out: number[] = [];
  private varint(n: number): void {
    let v = Math.max(0, Math.floor(n)); // exact below 2^53 (milliseconds, node counts)
    while (v >= 0x80) { this.out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
    this.out.push(v);
  }
  string(field: number, s: string): this {
    const bytes = new TextEncoder().encode(s);
    this.out.push((field << 3) | 2);
    this.varint(bytes.length);
    for (const b of bytes) this.out.push(b);
    return this;
  }
  int64(field: number, n: number): this {
    this.out.push(field << 3);
    this.varint(n);
    return this;
  }
  bytes(): Uint8Array<ArrayBuffer> { return new Uint8Array(this.out); }
}
