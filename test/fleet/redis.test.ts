// Redis URLs: options passed through (password, TLS, db), and no secret in what is printed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fleetStatus, redactRedisUrl, redisOptions } from '../../src/fleet/index.js';
import { freePort } from './redis-server.js';

describe('redis connection options', () => {
  it('passes user, password, db and TLS of the URL through to ioredis', () => {
    assert.deepEqual(redisOptions('rediss://ci:s%40cret@redis.example:6380/2'), {
      host: 'redis.example',
      port: 6380,
      username: 'ci',
      password: 's@cret',
      db: 2,
      tls: {},
    });
    assert.deepEqual(redisOptions('redis://127.0.0.1'), { host: '127.0.0.1', port: 6379 });
    assert.deepEqual(redisOptions({ host: 'h', password: 'p' }, { maxRetriesPerRequest: null }), {
      host: 'h',
      password: 'p',
      maxRetriesPerRequest: null,
    });
  });

  it('refuses what is not a redis URL, without echoing its password', () => {
    assert.throws(
      () => redisOptions('http://u:topsecret@h'),
      (e: Error & { code?: string }) => e.code === 'ERR_INVALID_OPTION' && !e.message.includes('topsecret'),
    );
    assert.throws(() => redisOptions('redis://h/notadb'), /database number/);
  });

  it('redacts the password of a URL, and prints options without one', () => {
    assert.equal(redactRedisUrl('redis://:topsecret@h:1/0'), 'redis://:***@h:1/0');
    assert.equal(redactRedisUrl('redis://h:1'), 'redis://h:1');
    assert.equal(redactRedisUrl({ host: 'h', port: 2, password: 'topsecret', db: 3 }), 'redis://h:2/3');
    assert.ok(!redactRedisUrl('not a url :topsecret@h').includes('topsecret'));
  });

  it('says at once that Redis cannot be reached, without its password', async () => {
    const url = `redis://:topsecret@127.0.0.1:${await freePort()}`;
    await assert.rejects(fleetStatus({ redis: url, queue: 'flt-none' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_REDIS_UNREACHABLE');
      assert.match(e.message, /redis:\/\/:\*\*\*@127\.0\.0\.1:\d+.*ECONNREFUSED/);
      assert.ok(!e.message.includes('topsecret'));
      return true;
    });
  });
});
