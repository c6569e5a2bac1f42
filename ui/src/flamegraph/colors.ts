// Flame graph colours. Single profiles: colour by package, as the Pyroscope UI does, so one
// library's frames share a hue wherever they sit; the package is read from the frame name's
// language conventions. Diffs: red for more (slower), green for less (faster), by how much the
// node's normalised share changed. Used by FlameGraph.tsx and the tests.

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

// Warm hues like the Pyroscope UI's palette (reds, oranges, yellows), varied in lightness.
const PALETTE = [
  '#e6855e', '#f2a65a', '#eec170', '#d9904f', '#c96a4a', '#f0b27a', '#e79d63', '#d4a35c',
  '#cf7f55', '#e8b964', '#dd8a6b', '#f4c27f', '#c97b3d', '#e0a070', '#d6905a', '#eab676',
];

function hash(s: string): number {
  let h = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function packageColor(name: string): string {
  return PALETTE[hash(packageOf(name)) % PALETTE.length];
}

/** Colour for a node whose normalised share changed by `relative` (0.25 = 25 % more). */
export function diffColor(relative: number): string {
  const strength = Math.min(1, Math.abs(relative)); // saturates at ±100 %
  if (!(strength >= 0.01)) return 'rgb(200,200,200)';
  const fade = Math.round(200 - 150 * strength);
  return relative > 0 ? `rgb(230,${fade},${fade})` : `rgb(${fade},215,${fade})`;
}
