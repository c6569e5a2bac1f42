// Label selectors ({service_name="api", env=~"prod.*"}): a small parser that validates what the
// user types (with the position of the first error), the service_name matcher the service picker
// edits, and what to autocomplete at the cursor. Used by the explore bar and the tests.

export interface Matcher { name: string; op: '=' | '!=' | '=~' | '!~'; value: string }

export type Parsed = { ok: true; matchers: Matcher[] } | { ok: false; error: string; at: number };

const NAME = /[a-zA-Z_][a-zA-Z0-9_.]*/y;

export function parseSelector(text: string): Parsed {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const fail = (error: string): Parsed => ({ ok: false, error, at: i });
  ws();
  if (text[i] !== '{') return fail('a selector starts with {');
  i++;
  const matchers: Matcher[] = [];
  ws();
  while (text[i] !== '}') {
    if (i >= text.length) return fail('missing }');
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) return fail('expected a label name');
    i += m[0].length;
    ws();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => text.startsWith(o, i));
    if (!op) return fail('expected =, !=, =~ or !~');
    i += op.length;
    ws();
    if (text[i] !== '"') return fail('expected a quoted value');
    let value = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      value += text[i++];
    }
    if (text[i] !== '"') return fail('unterminated value');
    i++;
    if (op === '=~' || op === '!~') {
      try { new RegExp(value); } catch { return fail(`invalid regular expression "${value}"`); }
    }
    matchers.push({ name: m[0], op, value });
    ws();
    if (text[i] === ',') { i++; ws(); continue; }
    if (text[i] !== '}') return fail('expected , or }');
  }
  i++;
  ws();
  if (i < text.length) return fail('unexpected text after }');
  return { ok: true, matchers };
}

const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function formatSelector(matchers: Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${quote(m.value)}`).join(', ')}}`;
}

/** The selector with service_name="service" in place of any service_name matcher. */
export function withService(selector: string, service: string): string {
  const p = parseSelector(selector);
  const rest = p.ok ? p.matchers.filter((m) => m.name !== 'service_name') : [];
  return formatSelector(service ? [{ name: 'service_name', op: '=', value: service }, ...rest] : rest);
}

/** The value of an exact service_name matcher, or ''. */
export function serviceOf(selector: string): string {
  const p = parseSelector(selector);
  return (p.ok && p.matchers.find((m) => m.name === 'service_name' && m.op === '=')?.value) || '';
}

export type Completion =
  | { kind: 'name'; prefix: string; from: number }
  | { kind: 'value'; name: string; prefix: string; from: number }
  | { kind: 'none' };

/** What the cursor is in: a label name (after { or ,) or a quoted value (after name="). */
export function completionAt(text: string, cursor: number): Completion {
  const before = text.slice(0, cursor);
  const value = /([a-zA-Z_][a-zA-Z0-9_.]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)$/.exec(before);
  if (value) return { kind: 'value', name: value[1], prefix: value[3], from: cursor - value[3].length };
  const name = /[{,]\s*([a-zA-Z0-9_.]*)$/.exec(before);
  if (name && !/"[^"]*$/.test(before.slice(before.lastIndexOf('{')).replace(/"(?:[^"\\]|\\.)*"/g, ''))) {
    return { kind: 'name', prefix: name[1], from: cursor - name[1].length };
  }
  return { kind: 'none' };
}

/** `text` with the completion's prefix replaced by `choice` (a value gets its closing quote). */
export function applyCompletion(text: string, cursor: number, c: Completion, choice: string): { text: string; cursor: number } {
  if (c.kind === 'none') return { text, cursor };
  const insert = c.kind === 'value' ? `${choice.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `${choice}="`;
  let after = text.slice(cursor);
  if (c.kind === 'value') after = after.replace(/^(?:[^"\\]|\\.)*"/, '');
  const next = text.slice(0, c.from) + insert + after;
  return { text: next, cursor: c.from + insert.length };
}
