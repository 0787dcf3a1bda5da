// The fifo handoff through a real server and runtime: the runtime is spawned while the client
// opens its fifos, so a client that then says it could not gets its process killed (not left
// running with nobody reading) and its start failed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { connect } from '../../src/server/connect.js';
import { SocketHttp } from '../../src/server/http.js';
import { socketPath } from '../../src/server/socket.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';

after(() => removeTempDirs());

for (const runtime of RUNTIMES) {
  describe(`fifo handoff (${runtime})`, { timeout: 180_000 }, () => {
    it('kills the process of a client that could not open its fifos, and fails the start', async () => {
      const stateDir = join(tempDir(), 'state');
      const client = await connect(stateDir, { runtime, idleExitMs: 60_000 });
      const http = new SocketHttp(socketPath(stateDir));
      try {
        const { request, response } = http.open('POST', 'start');
        request.end(JSON.stringify({ spec: { id: 'hnd-fail', args: ['/bin/sleep', '30'], stdio: 'fifo' }, handoff: true }));
        const events = createInterface({ input: await response, crlfDelay: Infinity })[Symbol.asyncIterator]();
        const next = async (): Promise<{ event: string; token?: string; error?: { code: string; message: string } }> =>
          JSON.parse((await events.next()).value as string);
        const fifos = await next();
        assert.equal(fifos.event, 'fifos');
        await http.json('POST', `handoff/${fifos.token}`, { error: 'no reader here' });
        const failed = await next();
        assert.equal(failed.event, 'error');
        assert.equal(failed.error?.code, 'ERR_ABORTED');
        assert.match(failed.error?.message ?? '', /could not open the fifos: no reader here/);
        // It had been spawned meanwhile: its exit is recorded, a kill's.
        const exit = await client.wait('hnd-fail');
        assert.equal(exit.exitCode, 137);
      } finally {
        http.close();
        await client.shutdown();
        await client.close();
      }
    });
  });
}
