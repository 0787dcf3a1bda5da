import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImageRef } from '../../src/image/reference.js';
import { SalvoError } from '../../src/errors.js';

describe('parseImageRef', () => {
  it('splits oci:DIR:TAG at the last colon after the last slash, and leaves the tag out when there is none', () => {
    assert.deepEqual(parseImageRef('oci:/images/alpine:3.20'), {
      transport: 'oci',
      path: '/images/alpine',
      tag: '3.20',
      text: 'oci:/images/alpine:3.20',
    });
    assert.equal(parseImageRef('oci:/images/alpine').tag, null);
    assert.deepEqual([parseImageRef('oci:/a:b/layout').path, parseImageRef('oci:/a:b/layout').tag], ['/a:b/layout', null]);
  });

  it('takes a docker-archive REF whole, slashes and tag included', () => {
    const ref = parseImageRef('docker-archive:/tmp/x.tar:library/busybox:1.36');
    assert.deepEqual([ref.path, ref.tag], ['/tmp/x.tar', 'library/busybox:1.36']);
    assert.equal(parseImageRef('docker-archive:/tmp/x.tar').tag, null);
  });

  it('refuses other transports and empty parts with ERR_IMAGE_NOT_FOUND', () => {
    for (const text of ['docker://busybox', 'busybox', 'oci:', 'oci:/x:']) {
      assert.throws(
        () => parseImageRef(text),
        (e: unknown) => e instanceof SalvoError && e.code === 'ERR_IMAGE_NOT_FOUND',
        text,
      );
    }
  });
});
