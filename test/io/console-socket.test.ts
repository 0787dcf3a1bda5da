// The console socket and the terminal stream, without a runtime: a python3 helper plays the
// runtime's part (connect, send an fd over SCM_RIGHTS) and the process on the pty's slave side.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listenConsoleSocket } from '../../src/io/console-socket.js';
import { terminalFromMaster } from '../../src/io/terminal.js';
import { native } from '../../src/native.js';
import { removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import socket; socket.send_fds'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = hasPython() ? false : 'needs python3 (3.9+, for socket.send_fds) to play the runtime';

// argv: socket path, mode. 'file': send an fd of a file; 'nothing': connect and close;
// 'pty': send a pty master, then talk on the slave like a shell would.
const HELPER = `
import fcntl, os, socket, struct, sys, termios
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
if mode == 'file':
    fd = os.open(sys.argv[3], os.O_RDONLY)
    socket.send_fds(s, [b'console'], [fd])
elif mode == 'pty':
    master, slave = os.openpty()
    socket.send_fds(s, [b'/dev/pts/x'], [master])
    os.close(master)
    s.close()
    line = os.read(slave, 100).decode().strip()
    os.write(slave, ('got ' + line + '\\n').encode())
    os.read(slave, 100)  # the test resizes, then types any line
    rows, cols = struct.unpack('hh', fcntl.ioctl(slave, termios.TIOCGWINSZ, b'0000'))
    os.write(slave, ('size %d %d\\n' % (rows, cols)).encode())
    os.close(slave)
s.close()
`;

function runtimeStandIn(socketPath: string, mode: string, ...args: string[]): ReturnType<typeof spawn> {
  return spawn('python3', ['-c', HELPER, socketPath, mode, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

describe('listenConsoleSocket', { skip }, () => {
  it('receives the fd the runtime sends and removes the socket file', async () => {
    const dir = tempDir();
    const file = join(dir, 'payload');
    writeFileSync(file, 'from the runtime');
    const console = await listenConsoleSocket(join(dir, 'console.sock'), 5000);
    runtimeStandIn(console.path, 'file', file);
    const fd = await console.take();
    const buffer = Buffer.alloc(64);
    assert.equal(buffer.subarray(0, readSync(fd, buffer, 0, 64, 0)).toString(), 'from the runtime');
    native().closeFd(fd);
    console.close();
    assert.ok(!existsSync(console.path));
  });

  it('fails with ERR_RUNTIME_FAILED when the runtime connects and sends nothing', async () => {
    const console = await listenConsoleSocket(join(tempDir(), 'console.sock'), 5000);
    runtimeStandIn(console.path, 'nothing');
    await assert.rejects(console.take(), { code: 'ERR_RUNTIME_FAILED', message: /without sending a terminal/ });
  });

  it('fails with ERR_RUNTIME_FAILED when nothing comes in time, and ERR_ABORTED when closed first', async () => {
    const timedOut = await listenConsoleSocket(join(tempDir(), 'console.sock'), 100);
    await assert.rejects(timedOut.take(), { code: 'ERR_RUNTIME_FAILED', message: /sent no terminal .* within 100 ms/ });
    const closed = await listenConsoleSocket(join(tempDir(), 'console.sock'), 5000);
    const taken = closed.take();
    closed.close();
    await assert.rejects(taken, { code: 'ERR_ABORTED' });
    assert.ok(!existsSync(closed.path));
  });
});

describe('terminalFromMaster', { skip }, () => {
  it('types into the pty, reads what the process prints, resizes it, and ends when the slave closes', async () => {
    const console = await listenConsoleSocket(join(tempDir(), 'console.sock'), 5000);
    const child = runtimeStandIn(console.path, 'pty');
    const terminal = terminalFromMaster(await console.take());
    console.close();
    let output = '';
    const ended = new Promise<void>((resolve) => terminal.stream.on('end', resolve));
    terminal.stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    terminal.stream.write('hello\n');
    while (!output.includes('got hello')) await new Promise((r) => setTimeout(r, 10));
    terminal.resize(123, 45);
    terminal.stream.write('go\n');
    await ended;
    assert.match(output, /size 45 123/);
    await new Promise((resolve) => child.on('exit', resolve));
    assert.throws(() => terminal.resize(80, 24), { code: 'ERR_TERMINAL_CLOSED' });
  });

  it('refuses sizes that are not integers from 1 to 65535 with ERR_INVALID_OPTION', async () => {
    const console = await listenConsoleSocket(join(tempDir(), 'console.sock'), 5000);
    runtimeStandIn(console.path, 'pty');
    const terminal = terminalFromMaster(await console.take());
    for (const [cols, rows] of [
      [0, 24],
      [80, 70000],
      [80.5, 24],
    ] as const) {
      assert.throws(() => terminal.resize(cols, rows), { code: 'ERR_INVALID_OPTION' }, `${cols}x${rows}`);
    }
    terminal.stream.destroy();
    assert.throws(() => terminal.resize(80, 24), { code: 'ERR_TERMINAL_CLOSED' });
  });
});
