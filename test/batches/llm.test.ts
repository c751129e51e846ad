import { afterEach, describe, expect, it } from 'vitest';
import { buildPrompt, LlmError, streamChat } from '../../src/batches/diagnose/llm.js';
import { mergeAggregates, FileAggregator } from '../../src/batches/aggregate.js';
import { defaultRules } from '../../src/batches/diagnose/default-rules.js';
import { evaluateRules } from '../../src/batches/diagnose/rules.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';

let llm: FakeLlm | undefined;
afterEach(async () => {
  await llm?.close();
  llm = undefined;
});

const settings = (url: string, extra: Partial<Parameters<typeof streamChat>[0]> = {}) => ({ url, model: 'tiny', timeoutMs: 5000, maxTokens: 256, ...extra });

describe('OpenAI-compatible client', () => {
  it('streams tokens in order and records usage', async () => {
    llm = await startFakeLlm({ tokens: ['Flash ', 'write ', 'failed'], apiKey: 'k1' });
    const seen: string[] = [];
    const out = await streamChat(settings(llm.url, { apiKey: 'k1' }), [{ role: 'user', content: 'hi' }], (t) => seen.push(t));
    expect(seen).toEqual(['Flash ', 'write ', 'failed']);
    expect(out).toEqual({ text: 'Flash write failed', usage: { prompt_tokens: 120, completion_tokens: 3, total_tokens: 123 } });
    expect(llm.requests[0]).toMatchObject({ model: 'tiny', stream: true });
  });

  it('turns an HTTP error into an LlmError naming the status', async () => {
    llm = await startFakeLlm({ status: 503 });
    await expect(streamChat(settings(llm.url), [{ role: 'user', content: 'hi' }], () => {})).rejects.toThrow(/answered 503/);
  });

  it('gives up after its timeout when the server never answers', async () => {
    llm = await startFakeLlm({ hang: true });
    const err = await streamChat(settings(llm.url, { timeoutMs: 200 }), [{ role: 'user', content: 'hi' }], () => {}).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(String(err.message)).toMatch(/within 200 ms/);
  });

  it('fails clearly when nothing listens', async () => {
    await expect(streamChat(settings('http://127.0.0.1:9/v1'), [{ role: 'user', content: 'hi' }], () => {})).rejects.toThrow(/cannot reach/);
  });
});

describe('prompt', () => {
  it('is built from the aggregate and findings, not from whole logs', () => {
    const agg = new FileAggregator('tcu.log', defaultRules());
    agg.add({ index: 0, level: 'error', message: 'UDS rx 7F 36 72' });
    for (let i = 1; i < 5000; i++) agg.add({ index: i, level: 'info', message: `routine line number ${i} with payload ${'x'.repeat(50)}` });
    const merged = mergeAggregates([agg.finish()]);
    const messages = buildPrompt({ vehicle_id: 'V1', vin: 'WVW123' }, merged, evaluateRules(defaultRules(), merged));
    const user = messages[1]!.content;
    expect(user).toContain('Programming failure while flashing');
    expect(user).toContain('tcu.log#0');
    expect(user).toContain('4999× routine line number <NUM> with payload');
    expect(user.length).toBeLessThan(8000);
  });
});
