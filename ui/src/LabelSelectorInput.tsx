// The label selector input: validated as you type (the parser's message and position), with
// autocomplete of label names (LabelNames) after { or , and of values (LabelValues) inside
// name="…", scoped to the chosen profile type and time range. Enter applies the selector.
// A combobox with a listbox (arrow keys, Enter/Tab to take a suggestion, Escape to close).
import { useEffect, useRef, useState } from 'preact/hooks';
import { labelNames, labelValues } from './api.ts';
import { applyCompletion, Completion, completionAt, parseSelector } from './selector.ts';

interface Props {
  value: string;
  profileType: string;
  start: number;
  end: number;
  onApply: (selector: string) => void;
  onError: (e: unknown) => void;
  label?: string;
}

let instances = 0;

export function LabelSelectorInput(p: Props) {
  const [listId] = useState(() => `selector-options-${++instances}`); // two in the diff view
  const [text, setText] = useState(p.value);
  const [cursor, setCursor] = useState(0);
  const [options, setOptions] = useState<string[]>([]);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const completion = useRef<Completion>({ kind: 'none' });
  useEffect(() => setText(p.value), [p.value]);

  const parsed = parseSelector(text);
  useEffect(() => {
    if (!open) return;
    const c = completionAt(text, cursor);
    completion.current = c;
    if (c.kind === 'none') { setOptions([]); return; }
    const ctl = new AbortController();
    const matchers = p.profileType ? [`{__profile_type__="${p.profileType}"}`] : [];
    const load = c.kind === 'name' ? labelNames(matchers, p.start, p.end, ctl.signal)
      : labelValues(c.name, matchers, p.start, p.end, ctl.signal);
    load.then((all) => {
      const prefix = c.prefix.toLowerCase();
      setOptions(all.filter((o) => !o.startsWith('__') && o.toLowerCase().startsWith(prefix)).slice(0, 50));
      setActive(0);
    }).catch((e) => { if ((e as Error).name !== 'AbortError') p.onError(e); });
    return () => ctl.abort();
  }, [text, cursor, open, p.profileType, p.start, p.end]);

  const take = (choice: string) => {
    const r = applyCompletion(text, cursor, completion.current, choice);
    setText(r.text);
    setCursor(r.cursor);
    requestAnimationFrame(() => input.current?.setSelectionRange(r.cursor, r.cursor));
  };
  const showList = open && options.length > 0;
  return (
    <div class="selector">
      <input ref={input} type="text" role="combobox" aria-label={p.label ?? 'Label selector'} spellcheck={false}
        aria-expanded={showList} aria-controls={listId} aria-autocomplete="list"
        aria-invalid={!parsed.ok} value={text} data-testid="label-selector"
        onInput={(e) => { const el = e.target as HTMLInputElement; setText(el.value); setCursor(el.selectionStart ?? el.value.length); setOpen(true); }}
        onClick={(e) => { setCursor((e.target as HTMLInputElement).selectionStart ?? 0); setOpen(true); }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (showList && e.key === 'ArrowDown') { setActive((active + 1) % options.length); e.preventDefault(); }
          else if (showList && e.key === 'ArrowUp') { setActive((active + options.length - 1) % options.length); e.preventDefault(); }
          else if (showList && (e.key === 'Enter' || e.key === 'Tab')) { take(options[active]); e.preventDefault(); }
          else if (e.key === 'Escape') setOpen(false);
          else if (e.key === 'Enter' && parsed.ok) { setOpen(false); p.onApply(text); }
        }} />
      {showList && (
        <ul id={listId} role="listbox" class="options" data-testid="selector-options">
          {options.map((o, i) => (
            <li key={o} role="option" aria-selected={i === active} class={i === active ? 'active' : ''}
              onMouseDown={(e) => { e.preventDefault(); take(o); }}>{o}</li>
          ))}
        </ul>
      )}
      {!parsed.ok && <div class="invalid" role="status" data-testid="selector-error">{parsed.error} (at character {parsed.at + 1})</div>}
      <button type="button" disabled={!parsed.ok} onClick={() => p.onApply(text)}>Apply</button>
    </div>
  );
}
