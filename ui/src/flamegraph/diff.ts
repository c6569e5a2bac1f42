// Diff maths: how a node or function changed between the left (baseline) and right (comparison)
// profile. Both sides are normalised by their own totals first, so a right side with twice the
// samples but the same shape shows no change. Used by the diff flame graph and the diff table.

export interface Change {
  leftShare: number; // share of the left profile's total
  rightShare: number;
  delta: number; // rightShare - leftShare (positive: more of the profile, "slower")
  relative: number; // delta / leftShare; Infinity for something new on the right
}

export function change(left: number, right: number, leftTicks: number, rightTicks: number): Change {
  const leftShare = leftTicks > 0 ? left / leftTicks : 0;
  const rightShare = rightTicks > 0 ? right / rightTicks : 0;
  const delta = rightShare - leftShare;
  let relative = 0;
  if (leftShare > 0) relative = delta / leftShare;
  else if (rightShare > 0) relative = Infinity;
  return { leftShare, rightShare, delta, relative };
}

export interface DiffRow { name: string; left: number; right: number; change: Change }

/** Functions by self value on each side, largest change of share first. */
export function rankByChange(rows: Array<{ name: string; leftSelf?: number; rightSelf?: number }>,
  leftTicks: number, rightTicks: number): DiffRow[] {
  return rows
    .map((r) => ({ name: r.name, left: r.leftSelf ?? 0, right: r.rightSelf ?? 0,
      change: change(r.leftSelf ?? 0, r.rightSelf ?? 0, leftTicks, rightTicks) }))
    .filter((r) => r.left > 0 || r.right > 0)
    .sort((a, b) => Math.abs(b.change.delta) - Math.abs(a.change.delta) || a.name.localeCompare(b.name));
}
