// connect() beside a server that is stopping: it holds the socket (and the state lock) until it
// has closed; a client waits for it to go and then starts a new one, instead of failing.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { connect } from '../../src/server/connect.js';
import { socketPath } from '../../src/server/socket.js';
import { sendError } from '../../src/server/wire.js';
import { RUNTIMES, removeTempDirs, sleep, tempDir } from '../helpers.js';
import { isRunning } from '../reliability/processes.js';

after(() => removeTempDirs());

describe('connect', () => {
  it('waits for a stopping server to go, then starts a new one, instead of failing', async () => {
    const stateDir = join(tempDir(), 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    let asked = 0;
    // What a server answers between its decision to stop and its state lock being free.
    const stoppingServer = createServer((_request, response) => {
      asked++;
      sendError(response, new SalvoError('ERR_SERVER_STOPPING', 'stopping'));
    });
    await new Promise<void>((resolve) => stoppingServer.listen(socketPath(stateDir), resolve));
    let settled = false;
    const connecting = connect(stateDir, { runtime: RUNTIMES[0], idleExitMs: 60_000 }).finally(() => (settled = true));
    // It asks again while the stopping server is there (each look is an answer 'stopping').
    while (asked < 3 && !settled) await sleep(50);
    assert.equal(settled, false, 'connect neither failed nor started a server beside the stopping one');
    await new Promise<void>((resolve) => stoppingServer.close(() => resolve()));
    rmSync(socketPath(stateDir), { force: true });
    const client = await connecting;
    try {
      assert.notEqual(client.info.pid, process.pid);
      assert.ok(isRunning(client.info.pid), 'a new server serves the directory');
    } finally {
      await client.shutdown();
      await client.close();
    }
    while (isRunning(client.info.pid)) await sleep(50);
  });
});
