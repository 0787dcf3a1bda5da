// A small strict XML 1.0 parser for tests: throws on anything not well-formed, so reports are checked.

export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  /** Child elements only. */
  children: XmlNode[];
  /** The element's own text and CDATA, references expanded (not its descendants' text). */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlError';
  }
}

const NAME = /[:A-Z_a-z\u00C0-\uFFFF][:A-Z_a-z\u00C0-\uFFFF.0-9\u00B7-]*/y;
const SPACE = /[ \t\n]*/y;
const DECLARATION =
  /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]+\1([ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?([ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(yes|no)\5)?[ \t\n]*\?>/;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function parseXml(input: string): XmlNode {
  return new Parser(input).document();
}

/** Every element named `name` under (and including) `node`, in document order. */
export function findAll(node: XmlNode, name: string): XmlNode[] {
  const found = node.name === name ? [node] : [];
  for (const child of node.children) found.push(...findAll(child, name));
  return found;
}

export function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

class Parser {
  readonly #s: string;
  #i = 0;

  constructor(input: string) {
    checkChars(input);
    // XML 1.0 §2.11: CRLF and lone CR are read as LF before anything else.
    this.#s = input.replace(/\r\n?/g, '\n');
  }

  document(): XmlNode {
    const declaration = DECLARATION.exec(this.#s);
    if (declaration !== null) this.#i = declaration[0].length;
    else if (/^<\?xml[ \t\n?]/i.test(this.#s)) this.#fail('malformed XML declaration');
    this.#misc();
    if (this.#s.startsWith('<!DOCTYPE', this.#i)) this.#fail('DOCTYPE is not supported');
    if (this.#s[this.#i] !== '<') this.#fail(this.#i >= this.#s.length ? 'no root element' : 'text before the root element');
    const root = this.#element();
    this.#misc();
    if (this.#i < this.#s.length) {
      if (this.#s.startsWith('</', this.#i)) this.#fail('end tag without a start tag');
      this.#fail(this.#s[this.#i] === '<' ? 'more than one root element' : 'text after the root element');
    }
    return root;
  }

  /** Whitespace, comments and processing instructions outside the root. */
  #misc(): void {
    for (;;) {
      this.#space();
      if (this.#s.startsWith('<!--', this.#i)) this.#comment();
      else if (this.#s.startsWith('<?', this.#i)) this.#processingInstruction();
      else return;
    }
  }

  #element(): XmlNode {
    this.#expect('<');
    const name = this.#name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const hadSpace = this.#space();
      if (this.#s.startsWith('/>', this.#i)) {
        this.#i += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (this.#s[this.#i] === '>') {
        this.#i++;
        break;
      }
      if (!hadSpace) this.#fail(`expected whitespace, '>' or '/>' in <${name}>`);
      const at = this.#i;
      const attribute = this.#name();
      if (Object.hasOwn(attributes, attribute)) this.#fail(`duplicate attribute ${attribute}`, at);
      this.#space();
      this.#expect('=');
      this.#space();
      attributes[attribute] = this.#attributeValue();
    }
    const node: XmlNode = { name, attributes, children: [], text: '' };
    for (;;) {
      if (this.#i >= this.#s.length) this.#fail(`unclosed element <${name}>`);
      if (this.#s.startsWith('</', this.#i)) {
        this.#i += 2;
        const at = this.#i;
        const closing = this.#name();
        if (closing !== name) this.#fail(`</${closing}> closes <${name}>`, at);
        this.#space();
        this.#expect('>');
        return node;
      }
      if (this.#s.startsWith('<!--', this.#i)) this.#comment();
      else if (this.#s.startsWith('<![CDATA[', this.#i)) node.text += this.#cdata();
      else if (this.#s.startsWith('<?', this.#i)) this.#processingInstruction();
      else if (this.#s[this.#i] === '<') node.children.push(this.#element());
      else node.text += this.#charData();
    }
  }

  #attributeValue(): string {
    const quote = this.#s[this.#i];
    if (quote !== '"' && quote !== "'") this.#fail('attribute value is not quoted');
    this.#i++;
    let value = '';
    for (;;) {
      const c = this.#s[this.#i];
      if (c === undefined) this.#fail('unterminated attribute value');
      if (c === quote) {
        this.#i++;
        return value;
      }
      if (c === '<') this.#fail("'<' in an attribute value");
      if (c === '&') value += this.#reference();
      else {
        // §3.3.3: literal whitespace is normalized to a space; references keep theirs.
        value += c === '\t' || c === '\n' ? ' ' : c;
        this.#i++;
      }
    }
  }

  #charData(): string {
    let text = '';
    while (this.#i < this.#s.length && this.#s[this.#i] !== '<') {
      if (this.#s[this.#i] === '&') {
        text += this.#reference();
        continue;
      }
      if (this.#s.startsWith(']]>', this.#i)) this.#fail("']]>' in text");
      text += this.#s[this.#i];
      this.#i++;
    }
    return text;
  }

  #reference(): string {
    const start = this.#i;
    const end = this.#s.indexOf(';', start);
    const body = end === -1 ? '' : this.#s.slice(start + 1, end);
    let value: string | undefined;
    if (/^#[0-9]+$/.test(body)) value = charFromCode(Number.parseInt(body.slice(1), 10));
    else if (/^#x[0-9A-Fa-f]+$/.test(body)) value = charFromCode(Number.parseInt(body.slice(2), 16));
    else value = PREDEFINED[body];
    if (value === undefined) this.#fail(`bad entity reference ${JSON.stringify(this.#s.slice(start, start + 12))}`, start);
    this.#i = end + 1;
    return value;
  }

  #cdata(): string {
    const start = this.#i + '<![CDATA['.length;
    const end = this.#s.indexOf(']]>', start);
    if (end === -1) this.#fail('unterminated CDATA section');
    this.#i = end + 3;
    return this.#s.slice(start, end);
  }

  #comment(): void {
    const start = this.#i + 4;
    const end = this.#s.indexOf('--', start);
    if (end === -1) this.#fail('unterminated comment');
    if (this.#s[end + 2] !== '>') this.#fail("'--' inside a comment", end);
    this.#i = end + 3;
  }

  #processingInstruction(): void {
    this.#i += 2;
    const at = this.#i;
    const target = this.#name();
    if (target.toLowerCase() === 'xml') this.#fail('XML declaration not at the start of the document', at);
    const end = this.#s.indexOf('?>', this.#i);
    if (end === -1) this.#fail('unterminated processing instruction');
    if (end > this.#i && !this.#space()) this.#fail('expected whitespace after the processing instruction target');
    this.#i = end + 2;
  }

  #name(): string {
    NAME.lastIndex = this.#i;
    const match = NAME.exec(this.#s);
    if (match === null) this.#fail('expected a name');
    this.#i += match[0].length;
    return match[0];
  }

  /** True when it skipped any whitespace. */
  #space(): boolean {
    SPACE.lastIndex = this.#i;
    const length = SPACE.exec(this.#s)![0].length;
    this.#i += length;
    return length > 0;
  }

  #expect(text: string): void {
    if (!this.#s.startsWith(text, this.#i)) this.#fail(`expected '${text}'`);
    this.#i += text.length;
  }

  #fail(message: string, offset = this.#i): never {
    throw new XmlError(message, offset);
  }
}

function charFromCode(code: number): string | undefined {
  return isXmlChar(code) ? String.fromCodePoint(code) : undefined;
}

function checkChars(input: string): void {
  for (let i = 0; i < input.length; i++) {
    const code = input.codePointAt(i)!;
    if (!isXmlChar(code)) throw new XmlError(`character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML 1.0`, i);
    if (code > 0xffff) i++;
  }
}
