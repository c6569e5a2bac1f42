// The sandwich view of one function (sandwich.ts): its callers drawn as a flame (the function at
// the bottom, callers above) over its callees drawn as an icicle (the function on top). Each
// half focuses and searches on its own. Shown by the explore view in place of the flame graph
// while the URL names a function (sandwich=<name>).
import { useMemo, useState } from 'preact/hooks';
import { FlameGraph } from './FlameGraph.tsx';
import { sandwich } from './sandwich.ts';
import { FlameTree } from './tree.ts';
import type { Orientation } from '../url_state.ts';

function Half(p: { tree: FlameTree; unit: string; orientation: Orientation; label: string }) {
  const [focus, setFocus] = useState('');
  const [search, setSearch] = useState('');
  const [orientation, setOrientation] = useState<Orientation>(p.orientation);
  return (
    <div class="sandwich-half" data-testid={`sandwich-${p.label}`}>
      <h3>{p.label}</h3>
      <FlameGraph tree={p.tree} unit={p.unit} focus={focus} onFocus={setFocus} searchText={search}
        onSearch={setSearch} orientation={orientation} onOrientation={setOrientation} />
    </div>
  );
}

export function SandwichView(p: { tree: FlameTree; unit: string; name: string; onClose: () => void }) {
  const s = useMemo(() => sandwich(p.tree, p.name), [p.tree, p.name]);
  return (
    <section class="sandwich" aria-label={`Sandwich view of ${p.name}`}>
      <div class="fg-toolbar">
        <strong>Sandwich: <code>{p.name}</code></strong>
        <span class="spacer" />
        <button type="button" onClick={p.onClose}>Close sandwich</button>
      </div>
      {s ? (
        <>
          <Half key={`callers-${p.name}`} tree={s.callers} unit={p.unit} orientation="flame" label="callers" />
          <Half key={`callees-${p.name}`} tree={s.callees} unit={p.unit} orientation="icicle" label="callees" />
        </>
      ) : <p class="empty">{p.name} is not in this profile.</p>}
    </section>
  );
}
