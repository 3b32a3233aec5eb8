import { describe, expect, it } from '@jest/globals';
import { liveChildProcesses, runProcess } from './child-process.js';

describe('runProcess', () => {
  it('feeds stdin and collects stdout', async () => {
    const out = await runProcess('cat', [], { input: 'hello', signal: new AbortController().signal, timeoutMs: 5000, maxOutputBytes: 100 });
    expect(out.toString()).toBe('hello');
  });

  it('kills the child at once on abort, leaving no process behind', async () => {
    const controller = new AbortController();
    const running = runProcess('sleep', ['10'], { signal: controller.signal, timeoutMs: 20_000, maxOutputBytes: 100 });
    expect(liveChildProcesses()).toBe(1);
    controller.abort();
    await expect(running).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(liveChildProcesses()).toBe(0);
  });

  it('times out and bounds output', async () => {
    await expect(runProcess('sleep', ['10'], { signal: new AbortController().signal, timeoutMs: 50, maxOutputBytes: 100 })).rejects.toThrow(/timed out/);
    await expect(runProcess('head', ['-c', '1000', '/dev/zero'], { signal: new AbortController().signal, timeoutMs: 5000, maxOutputBytes: 100 })).rejects.toThrow(/exceeded/);
  });
});
