import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApi, testConfig, type Running } from './support/harness.js';

/** The committed spec. Regenerate with UPDATE_OPENAPI=1 and review the diff like code. */
const COMMITTED = new URL('../docs/openapi.json', import.meta.url);
let api: Running;

beforeAll(async () => {
  api = await startApi(testConfig());
});

afterAll(async () => {
  await api?.close();
});

describe('OpenAPI', () => {
  it('serves Swagger UI at /docs without a key', async () => {
    const res = await fetch(`${api.url}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
  });

  it('serves the spec committed in docs/openapi.json', async () => {
    const res = await fetch(`${api.url}/docs/json`);
    expect(res.status).toBe(200);
    const live: unknown = await res.json();
    if (process.env.UPDATE_OPENAPI === '1') await writeFile(COMMITTED, `${JSON.stringify(live, null, 2)}\n`);
    const committed = JSON.parse(await readFile(COMMITTED, 'utf8'));
    expect(live).toEqual(committed);
  });

  it('documents the admin API only, every operation behind the bearer key', async () => {
    const spec = (await (await fetch(`${api.url}/docs/json`)).json()) as { paths: Record<string, Record<string, any>>; components: any };
    const paths = Object.keys(spec.paths);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !p.startsWith('/admin/'))).toEqual([]);
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries<Record<string, any>>(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(`${method} ${path}: ${JSON.stringify(op.security)}`).toBe(`${method} ${path}: ${JSON.stringify([{ bearer: [] }])}`);
        expect(op.responses['401']).toBeDefined();
      }
    }
  });
});
