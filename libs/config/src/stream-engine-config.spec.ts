import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './load-config.js';

const valid = {
  PUBLIC_BASE_URL: 'https://voice.example.com/',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('stream engine configuration', () => {
  it('defaults to the pipeline and to OpenAI’s Realtime endpoint and settings', () => {
    const config = loadConfig(valid);
    expect(config.STREAM_ENGINE).toBe('pipeline');
    expect(config.OPENAI_REALTIME_URL).toBe('wss://api.openai.com/v1/realtime');
    expect(config.OPENAI_REALTIME_MODEL).toBe('gpt-realtime');
    expect(config.OPENAI_REALTIME_TURN_DETECTION).toBe('server_vad');
    expect(config.OPENAI_REALTIME_STALL_MS).toBe(2000);
  });

  it('needs a key for OpenAI or Azure when realtime is the engine, not for a local server', () => {
    expect(() => loadConfig({ ...valid, STREAM_ENGINE: 'realtime' })).toThrow(/OPENAI_API_KEY is required/);
    expect(() => loadConfig({ ...valid, STREAM_ENGINE: 'realtime', OPENAI_REALTIME_URL: 'wss://res.openai.azure.com/openai/v1/realtime' })).toThrow(/OPENAI_API_KEY/);
    expect(loadConfig({ ...valid, STREAM_ENGINE: 'realtime', OPENAI_API_KEY: 'sk-x' }).STREAM_ENGINE).toBe('realtime');
    expect(loadConfig({ ...valid, STREAM_ENGINE: 'realtime', OPENAI_REALTIME_URL: 'ws://127.0.0.1:9000/v1/realtime' }).STREAM_ENGINE).toBe('realtime');
  });

  it('rejects an unknown engine, a non-WebSocket URL and a stall budget that would allow 3 s of dead air', () => {
    expect(() => loadConfig({ ...valid, STREAM_ENGINE: 'magic' })).toThrow(/STREAM_ENGINE/);
    expect(() => loadConfig({ ...valid, OPENAI_REALTIME_URL: 'https://api.openai.com/v1/realtime' })).toThrow(/OPENAI_REALTIME_URL/);
    expect(() => loadConfig({ ...valid, OPENAI_REALTIME_STALL_MS: '3000' })).toThrow(/OPENAI_REALTIME_STALL_MS/);
  });
});
