import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleFiles } from './console-files.js';

function builtConsole(): string {
  const dir = mkdtempSync(join(tmpdir(), 'console-files-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  writeFileSync(join(dir, 'assets', 'main-ABC123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'main-ABC123.js.map'), '{}');
  writeFileSync(join(dir, 'secret.txt'), 'no');
  return dir;
}

describe('ConsoleFiles', () => {
  it('serves the index and the hashed assets with their types', () => {
    const files = new ConsoleFiles(builtConsole());
    expect(files.index()).toMatchObject({ type: 'text/html; charset=utf-8' });
    expect(files.asset('main-ABC123.js')?.body.toString()).toBe('console.log(1)');
    expect(files.asset('main-ABC123.js')?.type).toBe('text/javascript; charset=utf-8');
    expect(files.asset('main-ABC123.js.map')?.type).toBe('application/json; charset=utf-8');
  });

  it('reads nothing but asset names from the assets folder', () => {
    const files = new ConsoleFiles(builtConsole());
    for (const name of ['../secret.txt', '..%2Fsecret.txt', 'secret.txt', '../index.html', 'main.js/..', '.hidden.js', 'a'.repeat(70) + '.js']) {
      expect(files.asset(name)).toBeNull();
    }
  });

  it('reports a console that is not built (and picks up a later build)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-files-'));
    const files = new ConsoleFiles(dir);
    expect(files.index()).toBeNull();
    writeFileSync(join(dir, 'index.html'), 'built');
    expect(files.index()?.body.toString()).toBe('built');
  });
});
