/** Small, exact surgery on EC2's XML answers (the query protocol's shapes are plain and stable). */

/** The `<item>…</item>` elements directly inside `<tag>…</tag>`, with their offsets. */
export function topLevelItems(xml: string, tag: string): { start: number; end: number; text: string }[] {
  const open = xml.indexOf(`<${tag}>`);
  if (open < 0) return [];
  const close = xml.indexOf(`</${tag}>`, open);
  const out: { start: number; end: number; text: string }[] = [];
  let depth = 0;
  let itemStart = -1;
  const re = /<(\/?)item>/g;
  re.lastIndex = open;
  for (let m = re.exec(xml); m && m.index < close; m = re.exec(xml)) {
    if (m[1] === '') {
      if (depth === 0) itemStart = m.index;
      depth += 1;
    } else {
      depth -= 1;
      if (depth === 0) out.push({ start: itemStart, end: m.index + m[0].length, text: xml.slice(itemStart, m.index + m[0].length) });
    }
  }
  return out;
}

export function field(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

/** Replaces the value of the first `<name>` that is not inside a nested `<item>`. */
export function setOwnField(item: string, name: string, value: string): string {
  const inner = item.slice('<item>'.length, -'</item>'.length);
  let depth = 0;
  const re = new RegExp(`<(/?)item>|<${name}>[^<]*</${name}>`, 'g');
  for (let m = re.exec(inner); m; m = re.exec(inner)) {
    if (m[0] === '<item>') depth += 1;
    else if (m[0] === '</item>') depth -= 1;
    else if (depth === 0) return `<item>${inner.slice(0, m.index)}<${name}>${value}</${name}>${inner.slice(m.index + m[0].length)}</item>`;
  }
  return item;
}

export function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>`;
}
