/**
 * Optional LLM summary through any OpenAI-compatible chat completions endpoint. The prompt is built
 * from the aggregate and the findings — never whole logs — so it stays small and leaks no bulk data.
 * Tokens stream to a callback (the batch's SSE events); any failure is reported to the caller,
 * which falls back to the rule report and says so.
 */
import type { BatchAggregate } from '../aggregate.js';
import type { Finding } from './rules.js';

export interface LlmSettings {
  /** Base URL, e.g. http://host:8000/v1 (the client appends /chat/completions). */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  maxTokens: number;
}

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export interface LlmResult {
  text: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

export class LlmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlmError';
  }
}

const SYSTEM_PROMPT =
  'You are an automotive diagnosis assistant. You get a summary of a vehicle log batch: counts, ' +
  'the findings of a rule engine with evidence, DTCs, UDS negative responses and the most frequent ' +
  'message templates. Write a short diagnosis for a service engineer: the most likely root cause, ' +
  'the evidence for it, and the next steps. Do not invent codes or events that are not in the input.';

export function buildPrompt(vehicle: { vehicle_id: string; vin: string }, a: BatchAggregate, findings: Finding[]): ChatMessage[] {
  const lines: string[] = [];
  lines.push(`Vehicle ${vehicle.vehicle_id} (VIN ${vehicle.vin}); ${a.files} files, ${a.records} records, ${a.errorCount} errors, ${a.fatalCount} fatal.`);
  if (a.firstTime !== null && a.lastTime !== null) lines.push(`Time span: ${new Date(a.firstTime).toISOString()} to ${new Date(a.lastTime).toISOString()}.`);
  lines.push('', 'Findings of the rule engine:');
  if (findings.length === 0) lines.push('- none');
  for (const f of findings.slice(0, 20)) {
    lines.push(`- [${f.severity}] ${f.title} (${f.count}×). Evidence: ${f.evidence.slice(0, 2).map((e) => `${e.file}#${e.index}: ${e.text.slice(0, 160)}`).join(' | ')}`);
  }
  const counts = Object.entries(a.factCounts).map(([k, v]) => `${k}=${v}`).join(', ');
  lines.push('', `Fact counts: ${counts || 'none'}.`);
  lines.push('', 'Most frequent message templates:');
  for (const t of a.templates.slice(0, 15)) lines.push(`- ${t.count}× ${t.template.slice(0, 200)}`);
  lines.push('', 'First error lines:');
  for (const e of a.errorLines.slice(0, 15)) lines.push(`- ${e.file}#${e.index} ${e.app ?? ''} ${e.text.slice(0, 200)}`);
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: lines.join('\n') },
  ];
}

/**
 * Stream one chat completion. Resolves with the whole text and the usage the server reported
 * (`stream_options.include_usage`); rejects with LlmError on HTTP errors, bad streams or timeout.
 */
export async function streamChat(settings: LlmSettings, messages: ChatMessage[], onToken: (t: string) => void, signal?: AbortSignal): Promise<LlmResult> {
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const url = `${settings.url.replace(/\/+$/, '')}/chat/completions`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
      },
      body: JSON.stringify({ model: settings.model, messages, stream: true, stream_options: { include_usage: true }, max_tokens: settings.maxTokens }),
      signal: combined,
    });
  } catch (err) {
    throw new LlmError(timeout.aborted ? `no answer from ${url} within ${settings.timeoutMs} ms` : `cannot reach ${url}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) {
    const body = await res.text().catch(() => '');
    throw new LlmError(`${url} answered ${res.status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
  let text = '';
  let usage: LlmResult['usage'];
  let buffered = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return { text, usage };
        let event: { choices?: { delta?: { content?: string } }[]; usage?: LlmResult['usage'] };
        try {
          event = JSON.parse(data);
        } catch {
          throw new LlmError(`${url} sent a stream event that is not JSON`);
        }
        const token = event.choices?.[0]?.delta?.content;
        if (token) {
          text += token;
          onToken(token);
        }
        if (event.usage) usage = event.usage;
      }
    }
  } catch (err) {
    if (err instanceof LlmError) throw err;
    throw new LlmError(timeout.aborted ? `answer from ${url} took longer than ${settings.timeoutMs} ms` : `stream from ${url} broke: ${(err as Error).message}`);
  }
  if (text.length === 0) throw new LlmError(`${url} ended the stream without an answer`);
  return { text, usage };
}
