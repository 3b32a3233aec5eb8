import { spawn } from 'node:child_process';
import { SpeechProviderError } from './speech.types.js';

let live = 0;

/** Child processes currently running (for leak checks and the soak benchmark). */
export function liveChildProcesses(): number {
  return live;
}

export interface RunOptions {
  input?: Buffer | string;
  signal: AbortSignal;
  timeoutMs: number;
  /** Output beyond this is an error (a runaway tool must not fill memory). */
  maxOutputBytes: number;
}

/**
 * Runs a tool to completion with its stdin fed and its stdout collected. No shell is involved
 * (text never becomes arguments). On abort or timeout the process is SIGKILLed at once, so a
 * cancelled turn or an ended call leaves no process behind.
 */
export function runProcess(command: string, args: string[], options: RunOptions): Promise<Buffer> {
  options.signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    live++;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err?: Error, out?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (err && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (err) reject(err);
      else resolve(out!);
    };
    const onAbort = () => finish(options.signal.reason instanceof Error ? options.signal.reason : new DOMException('aborted', 'AbortError'));
    const timer = setTimeout(() => finish(new SpeechProviderError(`${command} timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.once('close', (code) => {
      live--;
      if (code === 0) finish(undefined, Buffer.concat(chunks));
      else finish(new SpeechProviderError(`${command} exited with ${code}`));
    });
    child.once('error', (err) => finish(new SpeechProviderError(`${command} failed: ${err.message}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxOutputBytes) finish(new SpeechProviderError(`${command} output exceeded ${options.maxOutputBytes} bytes`));
      else chunks.push(chunk);
    });
    child.stdin.on('error', () => undefined); // EPIPE when the tool exits early; reported by 'close'
    child.stdin.end(options.input ?? '');
  });
}
