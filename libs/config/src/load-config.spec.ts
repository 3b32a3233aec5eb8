import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './load-config.js';

const valid = {
  PUBLIC_BASE_URL: 'https://voice.example.com/',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('configuration', () => {
  it('parses, types and defaults', () => {
    const config = loadConfig(valid);
    expect(config.PUBLIC_BASE_URL).toBe('https://voice.example.com');
    expect(config.PORT).toBe(3000);
    expect(config.AI_PROVIDER).toBe('local');
    expect(config.SPEECH_CONFIDENCE_THRESHOLD).toBe(0.6);
    expect(config.TURN_WAIT_MS).toBe(2500);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every missing or malformed variable', () => {
    const { TWILIO_AUTH_TOKEN: _t, ...rest } = valid;
    expect(() => loadConfig({ ...rest, PORT: 'abc', TWILIO_ACCOUNT_SID: 'nope' })).toThrow(ConfigError);
    try {
      loadConfig({ ...rest, PORT: 'abc', TWILIO_ACCOUNT_SID: 'nope' });
    } catch (err) {
      expect((err as Error).message).toMatch(/TWILIO_AUTH_TOKEN is required/);
      expect((err as Error).message).toMatch(/PORT/);
      expect((err as Error).message).toMatch(/TWILIO_ACCOUNT_SID must look like AC/);
    }
  });

  it('treats empty optional variables as unset and rejects malformed ones', () => {
    expect(loadConfig({ ...valid, HUMAN_TRANSFER_NUMBER: '' }).HUMAN_TRANSFER_NUMBER).toBeUndefined();
    expect(() => loadConfig({ ...valid, HUMAN_TRANSFER_NUMBER: '555-1234' })).toThrow(/HUMAN_TRANSFER_NUMBER/);
    expect(() => loadConfig({ ...valid, ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY/);
  });

  it('a cloud speech provider needs its key, named at start', () => {
    expect(() => loadConfig({ ...valid, MEDIA_STT_PROVIDER: 'deepgram' })).toThrow(/DEEPGRAM_API_KEY is required/);
    expect(() => loadConfig({ ...valid, MEDIA_TTS_PROVIDER: 'elevenlabs' })).toThrow(/ELEVENLABS_API_KEY is required/);
    const config = loadConfig({ ...valid, MEDIA_STT_PROVIDER: 'deepgram', DEEPGRAM_API_KEY: 'k', MEDIA_TTS_PROVIDER: 'elevenlabs', ELEVENLABS_API_KEY: 'k' });
    expect(config.DEEPGRAM_URL).toBe('wss://api.deepgram.com/v1/listen');
    expect(config.ELEVENLABS_URL).toBe('wss://api.elevenlabs.io');
    expect(() => loadConfig({ ...valid, DEEPGRAM_URL: 'ftp://x' })).toThrow(/DEEPGRAM_URL/);
  });
});
