// The tests' XML checker: it must accept what XML 1.0 allows and reject what it does not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findAll, parseXml, XmlError } from './xml.js';

describe('parseXml accepts well-formed documents', () => {
  it('parses a declaration, nested elements, attributes and text into a tree', () => {
    const root = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a x="1" y=\'two\'><b>hi</b><c/></a>\n');
    assert.equal(root.name, 'a');
    assert.deepEqual(root.attributes, { x: '1', y: 'two' });
    assert.deepEqual(
      root.children.map((c) => c.name),
      ['b', 'c'],
    );
    assert.equal(root.children[0]!.text, 'hi');
    assert.deepEqual(root.children[1], { name: 'c', attributes: {}, children: [], text: '' });
  });

  it('accepts a document without a declaration', () => {
    assert.equal(parseXml('<root/>').name, 'root');
  });

  it('expands the five predefined entities and decimal and hex character references', () => {
    const root = parseXml('<r a="&quot;&apos;&#65;&#x42;">&amp;&lt;&gt;&quot;&apos;&#233;&#x1F600;</r>');
    assert.equal(root.attributes.a, `"'AB`);
    assert.equal(root.text, `&<>"'é\u{1F600}`);
  });

  it('keeps whitespace given as references in attributes and turns literal whitespace into spaces', () => {
    const root = parseXml('<r a="x&#10;y&#9;z&#13;" b="x\ny\tz"/>');
    assert.equal(root.attributes.a, 'x\ny\tz\r');
    assert.equal(root.attributes.b, 'x y z');
  });

  it('reads CRLF as LF in text but keeps a referenced CR', () => {
    assert.equal(parseXml('<r>a\r\nb\rc&#13;</r>').text, 'a\nb\nc\r');
  });

  it('accepts comments, processing instructions, CDATA sections and a lone > in text', () => {
    const root = parseXml('<!-- before --><?pi data?><r><!-- in -->a > b<![CDATA[<&]]]]><?pi?></r><!-- after -->');
    assert.equal(root.text, 'a > b<&]]');
  });

  it('accepts whitespace inside tags and around the root', () => {
    const root = parseXml('\n  <r  a = "1"\n b="2" >x</r >\n\n');
    assert.deepEqual(root.attributes, { a: '1', b: '2' });
  });

  it('accepts characters outside the BMP written literally', () => {
    assert.equal(parseXml('<r>\u{1F600}</r>').text, '\u{1F600}');
  });

  it('finds elements by name in document order', () => {
    const root = parseXml('<a><b n="1"><b n="2"/></b><c><b n="3"/></c></a>');
    assert.deepEqual(
      findAll(root, 'b').map((b) => b.attributes.n),
      ['1', '2', '3'],
    );
  });
});

describe('parseXml rejects malformed documents', () => {
  const malformed: [string, string][] = [
    ['an empty document', ''],
    ['only a declaration', '<?xml version="1.0"?>'],
    ['a mismatched end tag', '<a><b></a></b>'],
    ['an unclosed element', '<a><b></b>'],
    ['an end tag without a start tag', '<a/></a>'],
    ['two root elements', '<a/><b/>'],
    ['text after the root', '<a/>x'],
    ['text before the root', 'x<a/>'],
    ['an unquoted attribute value', '<a x=1/>'],
    ['an attribute without a value', '<a x/>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['attributes without whitespace between them', '<a x="1"y="2"/>'],
    ['< in an attribute value', '<a x="<"/>'],
    ['an unterminated attribute value', '<a x="1/>'],
    ['an unescaped & in text', '<a>fish & chips</a>'],
    ['an unescaped & in an attribute', '<a x="a&b"/>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
    ['an entity without its semicolon', '<a>&amp</a>'],
    ['a character reference to a control character', '<a>&#1;</a>'],
    ['a hex character reference to U+FFFF', '<a>&#xFFFF;</a>'],
    ['a character reference to a surrogate', '<a>&#xD800;</a>'],
    ['an unescaped < in text', '<a>1 < 2</a>'],
    [']]> in text', '<a>x]]>y</a>'],
    ['a literal control character', '<a>\u0001</a>'],
    ['a literal escape character', '<a>\u001b[31m</a>'],
    ['a lone high surrogate', '<a>\uD800</a>'],
    ['a lone low surrogate', '<a>\uDC00x</a>'],
    ['U+FFFE', '<a>\uFFFE</a>'],
    ['U+FFFF in an attribute', '<a x="\uFFFF"/>'],
    ['a declaration that is not at the start', ' <?xml version="1.0"?><a/>'],
    ['a malformed declaration', '<?xml encoding="UTF-8"?><a/>'],
    ['-- inside a comment', '<a><!-- a -- b --></a>'],
    ['an unterminated comment', '<a><!-- a </a>'],
    ['an unterminated CDATA section', '<a><![CDATA[ x </a>'],
    ['a DOCTYPE', '<!DOCTYPE a><a/>'],
    ['a tag without a name', '<>x</>'],
  ];
  for (const [what, text] of malformed) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseXml(text), XmlError);
    });
  }
});
