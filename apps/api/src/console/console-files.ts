import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A built file of the console, held in memory (the whole console is a few tens of kB). */
export interface ConsoleFile {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** Names esbuild gives the assets (main-HASH.js …): nothing else is ever read from disk. */
const ASSET = /^[A-Za-z0-9_-]{1,64}\.(js|css)(\.map)?$/;

/** The checkout (or image) root: the nearest folder above this file with a package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/**
 * The console as `npm run build` left it in dist/console. Files are read once and cached, so
 * serving them costs no disk access; a console not built yet is reported, not crashed on.
 */
export class ConsoleFiles {
  private readonly cache = new Map<string, ConsoleFile | null>();

  constructor(readonly dir = join(projectRoot(), 'dist/console')) {}

  index(): ConsoleFile | null {
    return this.read('index.html', join(this.dir, 'index.html'));
  }

  asset(name: string): ConsoleFile | null {
    if (!ASSET.test(name)) return null;
    return this.read(name, join(this.dir, 'assets', name));
  }

  private read(key: string, path: string): ConsoleFile | null {
    if (this.cache.has(key)) return this.cache.get(key)!;
    let file: ConsoleFile | null = null;
    try {
      const ext = /\.(js|css|html)(\.map)?$/.exec(key);
      file = { body: readFileSync(path), type: ext?.[2] ? TYPES['.map'] : TYPES[`.${ext?.[1]}`] };
    } catch {
      file = null;
    }
    // A missing index is not cached: a build that lands after start is picked up.
    if (file || key !== 'index.html') this.cache.set(key, file);
    return file;
  }
}
