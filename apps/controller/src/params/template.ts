/**
 * Tag value templates as aws-ebs-csi-driver evaluates them (Go's text/template
 * with its functions): text with `{{ pipeline }}` actions, where a pipeline is
 * commands joined by `|`, each either a value (`.PVCName`, "text", 2, true) or a
 * function with arguments, the previous command's result passed as the last
 * argument. Functions: field, substring, toUpper, toLower, contains, index,
 * lastIndex (the anchor's), and Go's print, printf (%s %d %v), len, eq, ne,
 * not, and, or. html, js, call and urlquery are disabled, as there; control
 * actions (if, range, with, define, template, block) are not supported.
 * Errors are plain Error values; the caller names the parameter.
 */

type Value = string | number | boolean;

const DISABLED = new Set(['html', 'js', 'call', 'urlquery']);
const CONTROL = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

const str = (v: Value, fn: string): string => {
  if (typeof v !== 'string') throw new Error(`${fn}: expected a string argument, got ${JSON.stringify(v)}`);
  return v;
};
const int = (v: Value, fn: string): number => {
  if (typeof v !== 'number') throw new Error(`${fn}: expected an integer argument, got ${JSON.stringify(v)}`);
  return v;
};
const arity = (fn: string, args: Value[], n: number): void => {
  if (args.length !== n) throw new Error(`wrong number of args for ${fn}: want ${n} got ${args.length}`);
};
const truthy = (v: Value): boolean => v !== '' && v !== 0 && v !== false;

function printf(args: Value[]): string {
  const [format, ...rest] = args;
  let i = 0;
  return str(format ?? '', 'printf').replace(/%[sdv%]/g, (m) => {
    if (m === '%%') return '%';
    const v = rest[i++];
    return v === undefined ? `%!${m[1]}(MISSING)` : String(v);
  });
}

const FUNCS: Record<string, (args: Value[]) => Value> = {
  contains: (a) => (arity('contains', a, 2), str(a[1]!, 'contains').includes(str(a[0]!, 'contains'))),
  toUpper: (a) => (arity('toUpper', a, 1), str(a[0]!, 'toUpper').toUpperCase()),
  toLower: (a) => (arity('toLower', a, 1), str(a[0]!, 'toLower').toLowerCase()),
  substring: (a) => {
    arity('substring', a, 3);
    const [start, end, s] = [int(a[0]!, 'substring'), int(a[1]!, 'substring'), str(a[2]!, 'substring')];
    if (start < 0) {
      if (end > s.length) throw new Error(`substring: slice bounds out of range [:${end}] with length ${s.length}`);
      return s.slice(0, end);
    }
    if (start > s.length) throw new Error(`substring: slice bounds out of range [${start}:] with length ${s.length}`);
    if (end < 0 || end > s.length) return s.slice(start);
    if (end < start) throw new Error(`substring: slice bounds out of range [${start}:${end}]`);
    return s.slice(start, end);
  },
  field: (a) => {
    arity('field', a, 3);
    const words = str(a[2]!, 'field').split(str(a[0]!, 'field'));
    const idx = int(a[1]!, 'field');
    if (idx < 0 || idx >= words.length) throw new Error(`field: cannot index into split string; index = ${idx}, length = ${words.length}`);
    return words[idx]!;
  },
  index: (a) => (arity('index', a, 2), str(a[1]!, 'index').indexOf(str(a[0]!, 'index'))),
  lastIndex: (a) => (arity('lastIndex', a, 2), str(a[1]!, 'lastIndex').lastIndexOf(str(a[0]!, 'lastIndex'))),
  print: (a) => a.map(String).join(''),
  printf,
  len: (a) => (arity('len', a, 1), str(a[0]!, 'len').length),
  eq: (a) => {
    if (a.length < 2) throw new Error('missing argument for comparison');
    return a.slice(1).some((v) => v === a[0]);
  },
  ne: (a) => (arity('ne', a, 2), a[0] !== a[1]),
  not: (a) => (arity('not', a, 1), !truthy(a[0]!)),
  and: (a) => a.find((v) => !truthy(v)) ?? a[a.length - 1] ?? '',
  or: (a) => a.find(truthy) ?? a[a.length - 1] ?? '',
};

/** Splits a pipeline into tokens: quoted strings, raw strings, `|`, `(`, `)` and words. */
function tokens(raw: string): string[] {
  const src = raw.trim();
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\||\(|\)|[^\s|()"`]+)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length && (m = re.exec(src))) out.push(m[1]!);
  if (src.slice(re.lastIndex).trim() !== '') throw new Error(`unterminated quoted string in "${src}"`);
  return out;
}

function operand(tok: string, data: Record<string, string>): Value {
  if (tok.startsWith('"')) return JSON.parse(tok) as string;
  if (tok.startsWith('`')) return tok.slice(1, -1);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  if (tok === 'true' || tok === 'false') return tok === 'true';
  if (tok === '.') throw new Error('cannot print the whole template data; use a field such as .PVCName');
  if (/^\.[A-Za-z_]\w*$/.test(tok)) {
    const name = tok.slice(1);
    if (!(name in data))
      throw new Error(
        `can't evaluate field ${name}; the fields are ${Object.keys(data)
          .map((k) => `.${k}`)
          .join(', ')}`,
      );
    return data[name]!;
  }
  if (tok.startsWith('$')) throw new Error(`variables are not supported: ${tok}`);
  throw new Error(`function "${tok}" not defined`);
}

function command(toks: string[], data: Record<string, string>, piped: Value | undefined): Value {
  const [head, ...rest] = toks;
  if (head === undefined) throw new Error('empty command');
  if (CONTROL.has(head)) throw new Error(`"${head}" actions are not supported in tag templates`);
  if (DISABLED.has(head)) throw new Error(`cannot call '${head}' function`);
  const fn = FUNCS[head];
  if (!fn) {
    if (/^[A-Za-z_]\w*$/.test(head) && head !== 'true' && head !== 'false') throw new Error(`function "${head}" not defined`);
    if (rest.length > 0 || piped !== undefined) throw new Error(`can't give argument to non-function ${head}`);
    return operand(head, data);
  }
  const args = rest.map((t) => {
    if (t === '(' || t === ')') throw new Error('parenthesised arguments are not supported');
    return operand(t, data);
  });
  if (piped !== undefined) args.push(piped);
  return fn(args);
}

function pipeline(src: string, data: Record<string, string>): string {
  const toks = tokens(src);
  const cmds: string[][] = [[]];
  for (const t of toks) {
    if (t === '|') cmds.push([]);
    else cmds[cmds.length - 1]!.push(t);
  }
  let value: Value | undefined;
  for (const c of cmds) value = command(c, data, value);
  return String(value);
}

/** Evaluates `template` against `data` (field name → value). */
export function evaluateTemplate(template: string, data: Record<string, string>): string {
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) return out + rest;
    let text = rest.slice(0, open);
    let inner = rest.slice(open + 2);
    if (inner.startsWith('- ')) {
      text = text.trimEnd();
      inner = inner.slice(2);
    }
    const close = inner.indexOf('}}');
    if (close < 0) throw new Error('unclosed action: missing "}}"');
    let action = inner.slice(0, close);
    rest = inner.slice(close + 2);
    if (action.endsWith(' -')) {
      action = action.slice(0, -2);
      rest = rest.trimStart();
    }
    out += text;
    if (action.trim().startsWith('/*')) continue;
    if (action.trim() === '') throw new Error('missing value for command');
    out += pipeline(action, data);
  }
}
