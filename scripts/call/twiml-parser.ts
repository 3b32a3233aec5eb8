/** A TwiML element: its verb, attributes, text and children. Enough XML for Twilio's voice verbs. */
export interface TwimlNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: TwimlNode[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]);

/** Parses the TwiML our server (or any Twilio app) returns into a tree rooted at <Response>. */
export function parseTwiml(xml: string): TwimlNode {
  const root: TwimlNode = { name: '#root', attrs: {}, text: '', children: [] };
  const stack = [root];
  const token = /<\?[^>]*\?>|<(\/?)([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  for (const m of xml.matchAll(token)) {
    const [, closing, name, rawAttrs, selfClosing, text] = m;
    const top = stack[stack.length - 1];
    if (text !== undefined) {
      top.text += decode(text);
      continue;
    }
    if (!name) continue;
    if (closing) {
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (rawAttrs ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = decode(a[2]);
    const node: TwimlNode = { name, attrs, text: '', children: [] };
    top.children.push(node);
    if (!selfClosing) stack.push(node);
  }
  const response = root.children.find((c) => c.name === 'Response');
  if (!response) throw new Error(`not TwiML: ${xml.slice(0, 120)}`);
  return response;
}
