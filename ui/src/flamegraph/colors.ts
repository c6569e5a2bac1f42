// Flame graph colours, Pyroscope's. Single profiles: colour by package, as the Pyroscope UI does
// (its palette, its hash), so one library's frames share a colour wherever they sit and the same
// package looks the same as there; the package is read from the frame name's language
// conventions. Diffs: from Pyroscope's grey towards its red for more (slower) or its green for
// less (faster), by how much the node's normalised share changed. Used by FlameGraph.tsx and the
// tests.

/** The package of a frame name: Go "github.com/x/y.(*T).M" → "github.com/x/y", C++/Rust
 * "ns::Type::f" → "ns::Type", Java/Python "a.b.C.m" → "a.b.C", otherwise the name itself. */
export function packageOf(name: string): string {
  const colons = name.lastIndexOf('::');
  if (colons > 0) return name.slice(0, colons);
  const slash = name.lastIndexOf('/');
  if (slash >= 0) {
    const dot = name.indexOf('.', slash);
    return dot > 0 ? name.slice(0, dot) : name;
  }
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

// The Pyroscope UI's default flame graph palette (also Grafana's flame graph panel): 24 colours,
// the first eight given there as HSL (24°/69%/60%, 34/65/65, 194/52/61, 163/45/55, 211/48/60,
// 246/40/65, 305/63/79, 47/100/73), here converted to RGB.
export const PALETTE = [
  '#df8b53', '#e0ad6c', '#68b7cf', '#59c0a3', '#6897ca', '#8982c9', '#eba8e6', '#ffe175',
  '#b7dbab', '#f4d598', '#70dbed', '#f9ba8f', '#f29191', '#82b5d8', '#e5a8e2', '#aea2e0',
  '#9ac48a', '#f2c96d', '#65c5db', '#f9934e', '#ea6460', '#5195ce', '#d683ce', '#806eb7',
];

/** MurmurHash3, x86 32-bit, of a string's UTF-16 code units taken modulo 256 (as the Pyroscope
 * UI hashes package names to pick their colour, so a package gets the colour it has there). */
export function murmur3(key: string, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = key.length & ~3;
  const byte = (i: number) => key.charCodeAt(i) & 0xff;
  for (let i = 0; i < blocks; i += 4) {
    let k = byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (key.length & 3) {
    case 3: k ^= byte(blocks + 2) << 16; // falls through
    case 2: k ^= byte(blocks + 1) << 8; // falls through
    case 1:
      k ^= byte(blocks);
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= key.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function packageColor(name: string): string {
  return PALETTE[murmur3(packageOf(name)) % PALETTE.length];
}

// The Pyroscope palette's diff anchors: grey for no change, red for more, green for less.
const NEUTRAL = [148, 142, 142];
const BAD = [200, 0, 0];
const GOOD = [0, 170, 0];

/** Colour for a node whose normalised share changed by `relative` (0.25 = 25 % more). */
export function diffColor(relative: number): string {
  const strength = Math.min(1, Math.abs(relative)); // saturates at ±100 %
  if (!(strength >= 0.01)) return `rgb(${NEUTRAL.join(',')})`;
  const target = relative > 0 ? BAD : GOOD;
  const mix = NEUTRAL.map((n, i) => Math.round(n + (target[i] - n) * strength));
  return `rgb(${mix.join(',')})`;
}
